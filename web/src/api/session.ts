// The browser session (gateway, `/api/v1/auth/session`): the access token lives in this module's memory
// only; the refresh token is an HttpOnly SameSite=Strict cookie the script never sees, and `yy_csrf`
// (readable) is echoed in `X-CSRF-Token` on refresh and sign-out (double submit). These three calls use
// fetch directly: they must not carry a bearer token nor trigger the client's refresh-on-401.
import { ApiError, apiErrorFromResponse } from './problem'
import type { components } from './schema'

export const SESSION_PATH = '/api/v1/auth/session'
export const REFRESH_PATH = '/api/v1/auth/session/refresh'
export const CSRF_COOKIE = 'yy_csrf'
export const CSRF_HEADER = 'X-CSRF-Token'

type SessionLogin = components['schemas']['SessionLogin']
type SessionToken = components['schemas']['SessionToken']

let accessToken: string | null = null
let refreshing: Promise<string | null> | null = null

export function getAccessToken(): string | null {
  return accessToken
}

export function setAccessToken(token: string | null): void {
  accessToken = token
}

export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null
  for (const part of document.cookie.split(';')) {
    const [key, ...rest] = part.trim().split('=')
    if (key === name) return decodeURIComponent(rest.join('='))
  }
  return null
}

function csrfHeaders(): Record<string, string> {
  const csrf = readCookie(CSRF_COOKIE)
  return csrf ? { [CSRF_HEADER]: csrf } : {}
}

async function tokenFrom(response: Response): Promise<string> {
  const body = (await response.json()) as SessionToken
  accessToken = body.access_token
  return body.access_token
}

/** Signs in; the gateway sets the session cookies. Throws ApiError (401 wrong credentials, 422, 429). */
export async function signIn(username: string, password: string): Promise<string> {
  let response: Response
  try {
    response = await fetch(SESSION_PATH, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ username, password } satisfies SessionLogin),
    })
  } catch {
    throw new ApiError(0, null)
  }
  if (!response.ok) throw await apiErrorFromResponse(response)
  return tokenFrom(response)
}

async function refreshOnce(): Promise<string | null> {
  const headers = csrfHeaders()
  if (!(CSRF_HEADER in headers)) {
    accessToken = null
    return null
  }
  let response: Response
  try {
    response = await fetch(REFRESH_PATH, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { ...headers, Accept: 'application/json' },
    })
  } catch {
    return null // offline: keep what we have, the caller sees its own failure
  }
  if (!response.ok) {
    accessToken = null
    return null
  }
  return tokenFrom(response)
}

export const REFRESH_LOCK = 'yy-session-refresh'

/** Runs `task` while holding a lock shared by every tab of this origin (Web Locks API), so that two tabs
 * never send the same refresh cookie at once; without the API (old browsers) it just runs. */
async function acrossTabs(task: () => Promise<string | null>): Promise<string | null> {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (!locks) return task()
  return await locks.request(REFRESH_LOCK, { mode: 'exclusive' }, task)
}

/** A new access token from the refresh cookie, or null when there is no session any more. Concurrent
 * callers share one request, and tabs take turns: the gateway rotates the refresh token, and a second
 * request with the already-rotated one would revoke the whole session. A tab that waited sends the
 * cookie the first tab's refresh left (the browser reads it when the request goes out). */
export function refreshAccessToken(): Promise<string | null> {
  refreshing ??= acrossTabs(refreshOnce).finally(() => {
    refreshing = null
  })
  return refreshing
}

/** Ends the session on the server (revokes the refresh family, clears the cookies) and forgets the
 * token; a failure still signs out locally. */
export async function signOut(): Promise<void> {
  accessToken = null
  try {
    await fetch(SESSION_PATH, { method: 'DELETE', credentials: 'same-origin', headers: csrfHeaders() })
  } catch {
    // offline: the cookies expire on their own; the local session is gone either way
  }
}
