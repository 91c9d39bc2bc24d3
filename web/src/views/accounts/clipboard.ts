// 复制 in the dialogs that show a password or a client secret once (账号管理, 接口客户端): the browser's
// clipboard, or a note to copy by hand when the page may not use it.

/** Copies `text`, telling the user whether it worked. */
export async function copyToClipboard(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text)
    ElMessage.success('已复制')
  } catch {
    ElMessage.warning('无法访问剪贴板，请手动复制')
  }
}
