// The signed-in caller: `me` from /api/v1/auth/me (role, region, institution, permission codes) — the
// only server data kept in Pinia; records live in the pages. The access token stays in memory
// (api/session.ts); a reload restores the session from the refresh cookie.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { api, unwrap } from '@/api/client'
import type { components } from '@/api/schema'
import { refreshAccessToken, setAccessToken, signIn, signOut } from '@/api/session'

export type Me = components['schemas']['Me']

/** Roles that oversee regions (and may narrow the console to a region below theirs). */
export const OFFICIAL_ROLES = ['province_admin', 'city_admin', 'county_admin'] as const

export const useAuthStore = defineStore('auth', () => {
  const me = ref<Me | null>(null)
  let restoring: Promise<void> | null = null

  const signedIn = computed(() => me.value !== null)
  const permissions = computed(() => new Set(me.value?.permissions ?? []))
  const isOfficial = computed(() =>
    (OFFICIAL_ROLES as readonly string[]).includes(me.value?.role ?? ''),
  )
  const displayName = computed(() => me.value?.display_name || me.value?.username || '')

  /** Whether the caller holds a permission code `<service>:<permission>`, e.g.
   * `registry:institutions:create`. Menus and buttons show only what `can` allows. */
  function can(permission: string | undefined): boolean {
    return permission === undefined || permissions.value.has(permission)
  }

  async function loadMe(): Promise<void> {
    me.value = await unwrap(api.GET('/api/v1/auth/me'))
  }

  async function login(username: string, password: string): Promise<void> {
    await signIn(username, password)
    await loadMe()
    restoring = Promise.resolve()
  }

  /** Once per page load: a new access token from the refresh cookie, then `me`. Quietly signed out
   * when there is no session. */
  function restore(): Promise<void> {
    restoring ??= (async () => {
      const token = await refreshAccessToken()
      if (token === null) return
      try {
        await loadMe()
      } catch {
        forget()
      }
    })()
    return restoring
  }

  async function logout(): Promise<void> {
    await signOut()
    forget()
  }

  /** Drops the local session (after the server said it is gone). */
  function forget(): void {
    setAccessToken(null)
    me.value = null
  }

  return { me, signedIn, permissions, isOfficial, displayName, can, loadMe, login, restore, logout, forget }
})
