// 指标看板 (issue 15): the indicators of indicators.md for the caller's region and a period against their
// targets, drill-down province → city → county, the records behind a figure, the XLSX of the report.
import { DataLine } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'indicators',
    name: 'indicator-dashboard',
    component: () => import('./IndicatorDashboardPage.vue'),
    meta: { title: '指标看板', permission: 'indicators:reports:read', icon: markRaw(DataLine) },
  },
  {
    path: 'indicators/:indicator/records',
    name: 'indicator-records',
    component: () => import('./IndicatorRecordsPage.vue'),
    meta: { title: '指标明细', permission: 'indicators:reports:read', hidden: true },
  },
]

export default routes
