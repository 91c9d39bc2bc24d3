import type { Component } from 'vue'
import 'vue-router'

export {}

declare module 'vue-router' {
  interface RouteMeta {
    /** Page title (document title, menu label, breadcrumb). */
    title?: string
    /** Permission code `<service>:<permission>` the page needs (checked by the guard, filters the menu). */
    permission?: string
    /** Reachable without signing in (the login page). */
    public?: boolean
    /** Menu icon (an @element-plus/icons-vue component); a route without `title` is not in the menu. */
    icon?: Component
    /** Kept out of the sidebar menu even with a title (detail pages). */
    hidden?: boolean
  }
}
