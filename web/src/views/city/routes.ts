// 城市监管 (city and province officials): 签约覆盖 with the county comparison, 巡诊 shortfall and
// 双向转诊 response times — each for the region chosen in the header.
import { DataAnalysis } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'city',
    meta: { title: '医养监管', icon: markRaw(DataAnalysis) },
    children: [
      {
        path: 'coverage',
        name: 'city-coverage',
        component: () => import('./CoveragePage.vue'),
        meta: { title: '签约覆盖', permission: 'contracts:coverage:read' },
      },
      {
        path: 'shortfall',
        name: 'city-shortfall',
        component: () => import('./ShortfallPage.vue'),
        meta: { title: '巡诊完成情况', permission: 'contracts:reports:read' },
      },
      {
        path: 'referrals',
        name: 'city-referrals',
        component: () => import('./ReferralStatsPage.vue'),
        meta: { title: '转诊响应时间', permission: 'contracts:reports:read' },
      },
    ],
  },
]

export default routes
