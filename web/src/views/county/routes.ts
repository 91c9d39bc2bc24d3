// 备案管理 (issue 15): the county health bureau's desk for the 内设医疗机构 filings of its institutions —
// filed on submission (即办), then checked here: open one, and 不予备案 or 撤销备案 with a reason.
import { Stamp } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'filings',
    name: 'filings',
    component: () => import('./FilingDeskPage.vue'),
    meta: { title: '备案审核', permission: 'registry:filings:review', icon: markRaw(Stamp) },
  },
  {
    path: 'filings/:id',
    name: 'filing-detail',
    component: () => import('./FilingDetailPage.vue'),
    meta: { title: '备案详情', permission: 'registry:filings:read', hidden: true },
  },
]

export default routes
