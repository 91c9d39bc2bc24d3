import { createRouter, createWebHistory, type RouteLocationNormalized, type Router } from 'vue-router'

import { useAuthStore } from '@/stores/auth'

import { routes } from './routes'

export const APP_TITLE = '福建省医养结合服务平台'

/** A redirect target from the query: a path on this site only (never `//host` or a full URL). */
export function safeRedirect(value: unknown): string {
  return typeof value === 'string' && value.startsWith('/') && !value.startsWith('//') ? value : '/'
}

/** The permissions a route needs: its own and its parents'. */
export function requiredPermissions(route: RouteLocationNormalized): string[] {
  return route.matched.flatMap((record) => (record.meta.permission ? [record.meta.permission] : []))
}

export function createConsoleRouter(): Router {
  const router = createRouter({ history: createWebHistory(import.meta.env.BASE_URL), routes })

  router.beforeEach(async (to) => {
    const auth = useAuthStore()
    await auth.restore()
    if (to.meta.public) {
      return to.name === 'login' && auth.signedIn ? safeRedirect(to.query.redirect) : true
    }
    if (!auth.signedIn) return { name: 'login', query: { redirect: to.fullPath } }
    if (!requiredPermissions(to).every((permission) => auth.can(permission))) {
      return { name: 'forbidden', query: { from: to.fullPath } }
    }
    return true
  })

  router.afterEach((to) => {
    document.title = to.meta.title ? `${to.meta.title} - ${APP_TITLE}` : APP_TITLE
  })

  return router
}
