// 家庭医生签约与健康管理 (issue 19): officials read the signing and renewal rates, the 65+ check-ups and the
// ability assessments of their region, the persons (masked) and the 失能 elders overdue for their
// twice-yearly 医养结合 service; a primary-care institution's users sign residents to their teams, record
// check-ups and ability assessments (the level is computed by the service).
import { User } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'residents',
    meta: { title: '居民健康管理', icon: markRaw(User), permission: 'residents:persons:read' },
    children: [
      {
        path: 'overview',
        name: 'residents-overview',
        component: () => import('./ResidentsOverviewPage.vue'),
        meta: { title: '签约与健康管理统计', permission: 'residents:signings:read' },
      },
      {
        path: 'persons',
        name: 'residents-persons',
        component: () => import('./ResidentsPersonsPage.vue'),
        meta: { title: '居民名单', permission: 'residents:persons:read' },
      },
      {
        path: 'care',
        name: 'residents-care',
        component: () => import('./ResidentsCarePage.vue'),
        meta: { title: '失能老人医养结合服务', permission: 'residents:care_services:read' },
      },
      {
        path: 'desk',
        name: 'residents-desk',
        component: () => import('./ResidentsDeskPage.vue'),
        // officials read; the institution's users (admin and staff) sign and record
        meta: { title: '签约与体检工作台', permission: 'residents:signings:write' },
      },
    ],
  },
]

export default routes
