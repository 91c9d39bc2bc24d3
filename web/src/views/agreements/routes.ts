// 医养签约 (issue 15): an institution's agreements, finding a partner in the directory, drafting, signing,
// renewing and printing; the county's 备案 of signed agreements. Parameterised pages (detail, draft) are
// reached from the lists and stay out of the menu.
import { Connection } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'agreements',
    meta: { title: '医养签约', icon: markRaw(Connection), permission: 'contracts:agreements:read' },
    children: [
      {
        path: '',
        name: 'agreements',
        component: () => import('./AgreementListPage.vue'),
        meta: { title: '签约协议' },
      },
      {
        path: 'partners',
        name: 'agreement-partners',
        component: () => import('./PartnerDirectoryPage.vue'),
        meta: { title: '寻找合作机构', permission: 'contracts:agreements:write' },
      },
      {
        path: 'filing',
        name: 'agreement-filing',
        component: () => import('./AgreementFilingPage.vue'),
        meta: { title: '协议备案', permission: 'contracts:agreements:file' },
      },
      {
        path: 'new',
        name: 'agreement-new',
        component: () => import('./AgreementDraftPage.vue'),
        meta: { title: '起草签约协议', permission: 'contracts:agreements:write', hidden: true },
      },
      {
        path: ':id',
        name: 'agreement-detail',
        component: () => import('./AgreementDetailPage.vue'),
        meta: { title: '签约协议详情', hidden: true },
      },
    ],
  },
]

export default routes
