// 示范创建 (issue 15): the applications of each batch by state, an application's detail with the steps of
// the caller's level, and the batches with their 推荐汇总表.
import { Trophy } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'demonstration',
    meta: { title: '示范创建', icon: markRaw(Trophy), permission: 'registry:demonstration:read' },
    children: [
      {
        path: 'applications',
        name: 'demonstration-applications',
        component: () => import('./DemonstrationApplicationsPage.vue'),
        meta: { title: '示范申报', permission: 'registry:demonstration:read' },
      },
      {
        path: 'applications/:id',
        name: 'demonstration-application',
        component: () => import('./DemonstrationApplicationPage.vue'),
        meta: { title: '示范申报详情', permission: 'registry:demonstration:read', hidden: true },
      },
      {
        path: 'batches',
        name: 'demonstration-batches',
        component: () => import('./DemonstrationBatchesPage.vue'),
        meta: { title: '创建批次与汇总表', permission: 'registry:demonstration:read' },
      },
    ],
  },
]

export default routes
