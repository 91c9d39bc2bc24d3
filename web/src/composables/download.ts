// Saving a file the API answered (exports, generated documents): the name comes from the server's
// `Content-Disposition` (RFC 6266 / RFC 5987 `filename*=UTF-8''…` first, then `filename="…"`), never one
// made up in the browser. Fetch the body through the typed client with `parseAs: 'blob'`.

/** The file name a `Content-Disposition` header gives, or `fallback`. */
export function filenameFromDisposition(header: string | null, fallback: string): string {
  if (!header) return fallback
  const extended = /filename\*\s*=\s*([^;]+)/i.exec(header)
  if (extended?.[1]) {
    const value = extended[1].trim().replace(/^"|"$/g, '')
    const encoded = value.replace(/^[\w-]+'[^']*'/, '') // charset'language'
    try {
      const decoded = decodeURIComponent(encoded)
      if (decoded) return decoded
    } catch {
      // malformed percent-encoding: try the plain parameter
    }
  }
  const plain = /filename\s*=\s*("((?:[^"\\]|\\.)*)"|[^;]+)/i.exec(header)
  const name = plain?.[2] ?? plain?.[1]?.trim()
  return name ? name.replace(/\\(.)/g, '$1') : fallback
}

/** Hands a blob to the browser as a download named `filename`. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  link.rel = 'noopener'
  document.body.appendChild(link)
  link.click()
  link.remove()
  setTimeout(() => URL.revokeObjectURL(url), 0)
}
