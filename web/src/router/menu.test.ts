import { describe, expect, it } from 'vitest'
import type { RouteRecordRaw } from 'vue-router'

import { buildMenu } from './menu'

const page = { render: () => null }
const records: RouteRecordRaw[] = [
  { path: 'institutions', component: page, meta: { title: '机构管理', permission: 'registry:institutions:read' } },
  { path: 'institutions/:id', component: page, meta: { title: '机构详情', permission: 'registry:institutions:read' } },
  {
    path: 'indicators',
    meta: { title: '指标统计' },
    children: [
      { path: 'report', component: page, meta: { title: '指标报表', permission: 'indicators:report:read' } },
      { path: 'targets', component: page, meta: { title: '目标管理', permission: 'indicators:targets:write' } },
    ],
  },
  { path: 'hidden', component: page, meta: { title: '隐藏', hidden: true } },
]

describe('buildMenu', () => {
  it('shows only what the caller may open, groups with at least one child', () => {
    const can = (p: string | undefined) => p === undefined || p === 'indicators:report:read'
    expect(buildMenu(records, can)).toEqual([
      {
        path: '/indicators',
        title: '指标统计',
        children: [{ path: '/indicators/report', title: '指标报表', children: [] }],
      },
    ])
  })

  it('drops a group whose children are all forbidden, and parameterised pages', () => {
    const can = (p: string | undefined) => p === undefined || p === 'registry:institutions:read'
    expect(buildMenu(records, can).map((item) => item.path)).toEqual(['/institutions'])
  })
})
