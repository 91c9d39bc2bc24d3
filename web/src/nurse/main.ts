// The nurses' app (/nurse/): Vue 3 + Vant 4, the console's typed API client and session, a service
// worker (vite-plugin-pwa, registered by the build's registerSW.js) that keeps the app shell offline.
import 'vant/lib/index.css'

import { createApp } from 'vue'

import { onSessionLost } from '@/api/client'

import App from './App.vue'
import { createNurseRouter } from './router'
import { nurse } from './session'
import './nurse.css'

const app = createApp(App)
const router = createNurseRouter()
app.use(router)

// The refresh cookie no longer works (signed out elsewhere, expired): sign in again; the outbox stays.
onSessionLost(() => {
  nurse.value = null
  if (router.currentRoute.value.name !== 'login') void router.push({ name: 'login' })
})

app.mount('#app')
