// 上门护理 (issue 15): an institution's dispatch board (orders → nurse), and its queues of alarms,
// location flags and complaints.
import { FirstAidKit } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'homecare',
    meta: { title: '上门护理', icon: markRaw(FirstAidKit), permission: 'homecare:orders:read' },
    children: [
      {
        path: 'dispatch',
        name: 'homecare-dispatch',
        component: () => import('./HomecareDispatchPage.vue'),
        meta: { title: '派单调度', permission: 'homecare:orders:decide' },
      },
      {
        path: 'alerts',
        name: 'homecare-alerts',
        component: () => import('./HomecareQueuesPage.vue'),
        meta: { title: '报警与投诉', permission: 'homecare:sos:read' },
      },
    ],
  },
]

export default routes
