// 本机构信息 (issue 15): an institution user's own institution as the registry holds it, and its year
// figures (read only here). Reached from the agreements list: the menu has no way to show a page to
// institution users only (officials hold the same registry permissions and have no institution).
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'institution',
    name: 'institution-profile',
    component: () => import('./InstitutionProfilePage.vue'),
    meta: { title: '本机构信息', permission: 'registry:institutions:read', hidden: true },
  },
]

export default routes
