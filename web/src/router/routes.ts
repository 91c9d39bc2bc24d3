// The console's routes. Every area adds its screens in `src/views/<area>/routes.ts` (default export: a
// RouteRecordRaw[] placed under the console layout); this file collects them, so adding an area touches
// no shared file. Pages are lazy-loaded (`component: () => import(...)`), each in its own chunk.
import { HomeFilled } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const areaModules = import.meta.glob<{ default: RouteRecordRaw[] }>('../views/*/routes.ts', { eager: true })

/** Area routes in a stable order (by folder name); each area orders its own. */
export const areaRoutes: RouteRecordRaw[] = Object.keys(areaModules)
  .sort()
  .flatMap((key) => areaModules[key]?.default ?? [])

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/LoginView.vue'),
    meta: { title: '登录', public: true },
  },
  {
    path: '/',
    component: () => import('@/layouts/ConsoleLayout.vue'),
    children: [
      {
        path: '',
        name: 'home',
        component: () => import('@/views/HomeView.vue'),
        meta: { title: '首页', icon: markRaw(HomeFilled) },
      },
      ...areaRoutes,
      {
        path: '403',
        name: 'forbidden',
        component: () => import('@/views/ForbiddenView.vue'),
        meta: { title: '无权访问', hidden: true },
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/NotFoundView.vue'),
        meta: { title: '页面不存在', hidden: true },
      },
    ],
  },
]
