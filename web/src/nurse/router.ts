import { createRouter, createWebHistory, type Router } from 'vue-router'

import { restore, nurse } from './session'

export function createNurseRouter(): Router {
  const router = createRouter({
    history: createWebHistory('/nurse/'),
    routes: [
      { path: '/login', name: 'login', component: () => import('./views/LoginView.vue'), meta: { public: true } },
      { path: '/', name: 'day', component: () => import('./views/DayView.vue') },
      { path: '/orders/:id', name: 'order', component: () => import('./views/OrderView.vue'), props: true },
      { path: '/queue', name: 'queue', component: () => import('./views/QueueView.vue') },
      { path: '/:rest(.*)*', redirect: '/' },
    ],
  })
  router.beforeEach(async (to) => {
    await restore()
    if (to.meta.public) return true
    return nurse.value === null ? { name: 'login' } : true
  })
  return router
}
