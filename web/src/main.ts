import { createPinia } from 'pinia'
import { createApp } from 'vue'

import { onSessionLost } from '@/api/client'
import { createConsoleRouter } from '@/router'
import { useAuthStore } from '@/stores/auth'

import App from './App.vue'
import './styles/theme.css'
import './styles/page.css'

const app = createApp(App)
app.use(createPinia())
const router = createConsoleRouter()
app.use(router)

// A request answered 401 and the refresh cookie no longer works: back to the login page, then here.
onSessionLost(() => {
  useAuthStore().forget()
  const current = router.currentRoute.value
  if (current.name !== 'login') void router.push({ name: 'login', query: { redirect: current.fullPath } })
})

app.mount('#app')
