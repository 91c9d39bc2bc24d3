// 机构名录 (issue 15): officials search their region's institutions, open one (figures, year statistics,
// change history), and — county health bureaus — add, edit, import and export them.
import { OfficeBuilding } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'institutions',
    name: 'institutions',
    component: () => import('./InstitutionListPage.vue'),
    // the register is the officials' (institution users read their own profile elsewhere); export is
    // the permission every official reader holds and institution users do not
    meta: { title: '机构名录', permission: 'registry:institutions:export', icon: markRaw(OfficeBuilding) },
  },
  {
    path: 'institutions/new',
    name: 'institution-new',
    component: () => import('./InstitutionFormPage.vue'),
    meta: { title: '新增机构', permission: 'registry:institutions:create', hidden: true },
  },
  {
    path: 'institutions/:id',
    name: 'institution-detail',
    component: () => import('./InstitutionDetailPage.vue'),
    meta: { title: '机构详情', permission: 'registry:institutions:read', hidden: true },
  },
  {
    path: 'institutions/:id/edit',
    name: 'institution-edit',
    component: () => import('./InstitutionFormPage.vue'),
    meta: { title: '修改机构信息', permission: 'registry:institutions:update', hidden: true },
  },
]

export default routes
