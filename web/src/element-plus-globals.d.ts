// The Element Plus functions that unplugin-auto-import (ElementPlusResolver) imports, with their styles,
// wherever a script uses them without an import (vite.config.ts).
import type {
  ElLoading as Loading,
  ElMessage as Message,
  ElMessageBox as MessageBox,
  ElNotification as Notification,
} from 'element-plus/es'

declare global {
  const ElMessage: typeof Message
  const ElMessageBox: typeof MessageBox
  const ElNotification: typeof Notification
  const ElLoading: typeof Loading
}
