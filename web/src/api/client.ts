// The one typed client of the console: `api.GET('/api/v1/registry/institutions', { params })` with
// paths and bodies checked against the generated OpenAPI types. Use `unwrap()` to get the data or an
// ApiError. Middleware, in order:
//   X-Request-ID   a new id per request (the gateway passes it to the services and into their logs)
//   Idempotency-Key on every POST that has none (forms pass their own from useSubmitKey)
//   Authorization  bearer from memory; on 401 one shared refresh, then ONE retry of the same request
//                  (same Idempotency-Key); if the session is gone, `onSessionLost` handlers run.
import createClient, { type Middleware } from 'openapi-fetch'

import { newIdempotencyKey } from './idempotency'
import { ApiError, isProblem } from './problem'
import type { paths } from './schema'
import { getAccessToken, refreshAccessToken, SESSION_PATH } from './session'

type SessionLostHandler = () => void
const sessionLostHandlers = new Set<SessionLostHandler>()

/** Runs when a request answered 401 and the session could not be refreshed (sign in again). */
export function onSessionLost(handler: SessionLostHandler): () => void {
  sessionLostHandlers.add(handler)
  return () => sessionLostHandlers.delete(handler)
}

function withBearer(request: Request, token: string | null): Request {
  if (token) request.headers.set('Authorization', `Bearer ${token}`)
  return request
}

/** The fetch under the typed client: bearer token, refresh on 401, one retry. */
export async function authFetch(request: Request): Promise<Response> {
  const isSessionCall = new URL(request.url).pathname.startsWith(SESSION_PATH)
  const retry = isSessionCall ? null : request.clone()
  const response = await fetch(withBearer(request, getAccessToken()))
  if (response.status !== 401 || retry === null) return response
  const token = await refreshAccessToken()
  if (token === null) {
    for (const handler of sessionLostHandlers) handler()
    return response
  }
  return fetch(withBearer(retry, token))
}

export const requestIdMiddleware: Middleware = {
  onRequest({ request }) {
    if (!request.headers.has('X-Request-ID')) request.headers.set('X-Request-ID', crypto.randomUUID())
    return request
  },
}

export const idempotencyMiddleware: Middleware = {
  onRequest({ request }) {
    if (request.method === 'POST' && !request.headers.has('Idempotency-Key')) {
      request.headers.set('Idempotency-Key', newIdempotencyKey())
    }
    return request
  },
}

function origin(): string {
  return typeof location === 'undefined' ? 'http://localhost' : location.origin
}

export const api = createClient<paths>({ baseUrl: origin(), fetch: authFetch })
api.use(requestIdMiddleware, idempotencyMiddleware)

interface ClientResult<T> {
  data?: T
  error?: unknown
  response: Response
}

/** The data of a 2xx answer; otherwise throws ApiError (status 0 when the network failed). */
export async function unwrap<T>(call: Promise<ClientResult<T>>): Promise<T> {
  let result: ClientResult<T>
  try {
    result = await call
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    throw new ApiError(0, null)
  }
  if (!result.response.ok) {
    throw new ApiError(result.response.status, isProblem(result.error) ? result.error : null)
  }
  return result.data as T
}

/** The ETag a GET answered with (keep it with the record for the next write). */
export function etagOf(response: Response): string | null {
  return response.headers.get('ETag')
}

/** `params.header` for a PATCH/PUT/DELETE that must match the loaded version: never resend a write with
 * a newer ETag after a 412 — reload and let the user decide (ConflictDialog). */
export function ifMatch(etag: string): { 'If-Match': string } {
  return { 'If-Match': etag }
}
