// 账号管理: officials and institution admins manage the accounts of the level below (the gateway's
// users API decides what each may do); 接口客户端: the province manages the city platforms' API clients.
import { Connection, UserFilled } from '@element-plus/icons-vue'
import { markRaw } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

const routes: RouteRecordRaw[] = [
  {
    path: 'accounts',
    name: 'accounts',
    component: () => import('./AccountsPage.vue'),
    meta: { title: '账号管理', permission: 'gateway:users:read', icon: markRaw(UserFilled) },
  },
  {
    path: 'api-clients',
    name: 'api-clients',
    component: () => import('./ApiClientsPage.vue'),
    meta: { title: '接口客户端', permission: 'gateway:clients:read', icon: markRaw(Connection) },
  },
]

export default routes
