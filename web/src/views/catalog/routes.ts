// 护理服务目录 (互联网+护理服务): every role that reads the catalog sees its versions and items; the
// province imports new versions (homecare:catalog:write).
import { Collection } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'catalog',
    name: 'catalog',
    component: () => import('./CatalogPage.vue'),
    meta: { title: '护理服务目录', permission: 'homecare:catalog:read', icon: markRaw(Collection) },
  },
]

export default routes
