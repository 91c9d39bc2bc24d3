// The sidebar menu and the home page's links: the console's routes with a title, not hidden, whose
// permission the caller holds (`can`). A route with children is a group (submenu) shown when at least
// one child is.
import type { Component } from 'vue'
import type { RouteRecordRaw } from 'vue-router'

export interface MenuItem {
  path: string
  title: string
  icon?: Component
  children: MenuItem[]
}

function join(base: string, path: string): string {
  if (path.startsWith('/')) return path
  return `${base.replace(/\/$/, '')}/${path}`.replace(/\/$/, '') || '/'
}

export function buildMenu(
  records: readonly RouteRecordRaw[],
  can: (permission: string | undefined) => boolean,
  base = '/',
): MenuItem[] {
  const menu: MenuItem[] = []
  for (const record of records) {
    const meta = record.meta ?? {}
    if (!meta.title || meta.hidden || meta.public || !can(meta.permission)) continue
    if (record.path.includes(':')) continue // parameterised pages are reached from their lists
    const path = join(base, record.path)
    const children = record.children ? buildMenu(record.children, can, path) : []
    if (record.children && children.length === 0 && !record.component) continue
    menu.push({ path, title: meta.title, ...(meta.icon ? { icon: meta.icon } : {}), children })
  }
  return menu
}
