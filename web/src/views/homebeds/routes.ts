// 家庭病床 (issue 15): the provider's applications and beds — apply, a doctor's assessment, opening,
// rounds, reassessment, closing or withdrawing — and officials' view of their region with the overdue
// ones marked.
import { House } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'home-beds',
    name: 'home-beds',
    component: () => import('./HomeBedListPage.vue'),
    meta: { title: '家庭病床', icon: markRaw(House), permission: 'homecare:home_beds:read' },
  },
  {
    path: 'home-beds/apply',
    name: 'home-bed-apply',
    component: () => import('./HomeBedApplyPage.vue'),
    meta: { title: '登记建床申请', permission: 'homecare:home_beds:write', hidden: true },
  },
  {
    path: 'home-beds/:id',
    name: 'home-bed-detail',
    component: () => import('./HomeBedDetailPage.vue'),
    meta: { title: '家庭病床详情', permission: 'homecare:home_beds:read', hidden: true },
  },
]

export default routes
