// 双向转诊 (issue 15): an institution's inbox and outbox of referrals, each one's detail with the steps
// its side may take, and a new referral on an active agreement; officials read their region's.
import { Switch } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'referrals',
    name: 'referral-inbox',
    component: () => import('./ReferralListPage.vue'),
    meta: { title: '双向转诊', icon: markRaw(Switch), permission: 'contracts:referrals:read' },
  },
  {
    path: 'referrals/new',
    name: 'referral-new',
    component: () => import('./ReferralNewPage.vue'),
    meta: { title: '发起转诊', permission: 'contracts:referrals:write', hidden: true },
  },
  {
    path: 'referrals/:id',
    name: 'referral-detail',
    component: () => import('./ReferralDetailPage.vue'),
    meta: { title: '转诊详情', permission: 'contracts:referrals:read', hidden: true },
  },
]

export default routes
