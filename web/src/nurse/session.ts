// The signed-in nurse: the console's session (access token in memory, refresh cookie) and `me`. The
// name is kept in IndexedDB so that the app opens offline on the day it was used; the server is asked
// again as soon as the phone is online.
import { ref } from 'vue'

import { api, unwrap } from '@/api/client'
import type { components } from '@/api/schema'
import { getAccessToken, refreshAccessToken, signIn, signOut } from '@/api/session'

import { clearDay, readMeta, writeMeta } from './offline/store'

type Me = components['schemas']['Me']

export interface Nurse {
  sub: string
  name: string
}

export const nurse = ref<Nurse | null>(null)

function fromMe(me: Me): Nurse {
  return { sub: me.sub, name: me.display_name || me.username || me.sub }
}

async function remember(me: Me): Promise<void> {
  const previous = await readMeta('nurse')
  const next = fromMe(me)
  if (previous !== null && (JSON.parse(previous) as Nurse).sub !== next.sub) {
    await clearDay() // another nurse on this phone: the day of the previous one goes
  }
  await writeMeta('nurse', JSON.stringify(next))
  nurse.value = next
}

export async function login(username: string, password: string): Promise<void> {
  await signIn(username, password)
  await remember(await unwrap(api.GET('/api/v1/auth/me')))
}

let restoring: Promise<void> | null = null

/** Once per page load: the session from the refresh cookie, or offline the nurse of the last day. */
export function restore(): Promise<void> {
  restoring ??= (async () => {
    if (navigator.onLine) {
      const token = await refreshAccessToken()
      if (token !== null) {
        try {
          await remember(await unwrap(api.GET('/api/v1/auth/me')))
          return
        } catch {
          // fall through to the offline nurse
        }
      } else {
        return
      }
    }
    const kept = await readMeta('nurse')
    nurse.value = kept === null ? null : (JSON.parse(kept) as Nurse)
  })()
  return restoring
}

export async function logout(): Promise<void> {
  await signOut()
  nurse.value = null
  restoring = Promise.resolve()
}

/** Back online after an offline start: a token from the refresh cookie before the outbox is sent (so
 * the first request does not go out without one). */
export async function resume(): Promise<void> {
  if (nurse.value !== null && getAccessToken() === null) await refreshAccessToken()
}
