// The typed client against a stubbed network (globalThis.fetch): headers it adds, the one shared refresh
// on 401 and the single retry with the same Idempotency-Key.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'

import { api, onSessionLost, unwrap } from './client'
import { useSubmitKey } from './idempotency'
import { ApiError } from './problem'
import { getAccessToken, REFRESH_LOCK, refreshAccessToken, setAccessToken } from './session'

interface Seen {
  method: string
  path: string
  headers: Headers
}

const me = {
  sub: 'user:1',
  role: 'county_admin',
  role_label: '县（市、区）管理员',
  region_code: '350206',
  region_name: '湖里区',
  institution_id: null,
  practitioner_id: null,
  expires_at: null,
  permissions: ['registry:institutions:read'],
}

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json' } })
}

/** A fake gateway: a token is valid when it is `valid`; refresh hands out `valid` after a delay. */
function gateway(options: { refreshOk: boolean }) {
  const seen: Seen[] = []
  let refreshes = 0
  const handler = vi.fn(async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = input instanceof Request ? input : new Request(new URL(String(input), 'http://localhost'), init)
    const path = new URL(request.url).pathname
    seen.push({ method: request.method, path, headers: new Headers(request.headers) })
    if (path === '/api/v1/auth/session/refresh') {
      refreshes += 1
      await new Promise((resolve) => setTimeout(resolve, 10))
      if (!options.refreshOk || request.headers.get('X-CSRF-Token') !== 'csrf-1') {
        return json({ type: 'x', title: 't', status: 401, detail: '请重新登录', code: 'missing_session' }, 401)
      }
      return json({ access_token: 'valid', expires_in: 900, token_type: 'Bearer' })
    }
    if (request.headers.get('Authorization') !== 'Bearer valid') {
      return json({ type: 'x', title: 't', status: 401, detail: '令牌已过期', code: 'token_expired' }, 401)
    }
    if (path === '/api/v1/auth/me') return json(me)
    if (path === '/api/v1/registry/institutions' && request.method === 'POST') return json({ id: 'i-1' }, 201)
    return json({ type: 'x', title: 't', status: 404, detail: '不存在', code: 'not_found' }, 404)
  })
  vi.stubGlobal('fetch', handler)
  return { seen, refreshCount: () => refreshes }
}

beforeEach(() => {
  document.cookie = 'yy_csrf=csrf-1; path=/'
  setAccessToken('expired')
})

afterEach(() => {
  vi.unstubAllGlobals()
  setAccessToken(null)
})

describe('typed client', () => {
  it('sends the bearer token and a request id', async () => {
    const net = gateway({ refreshOk: true })
    setAccessToken('valid')
    const data = await unwrap(api.GET('/api/v1/auth/me'))
    expect(data.region_code).toBe('350206')
    expect(net.seen).toHaveLength(1)
    expect(net.seen[0]?.headers.get('Authorization')).toBe('Bearer valid')
    expect(net.seen[0]?.headers.get('X-Request-ID')).toMatch(/^[0-9a-f-]{36}$/)
    expect(net.seen[0]?.headers.has('Idempotency-Key')).toBe(false)
  })

  it('refreshes once for parallel 401s and retries each request once', async () => {
    const net = gateway({ refreshOk: true })
    const results = await Promise.all([
      unwrap(api.GET('/api/v1/auth/me')),
      unwrap(api.GET('/api/v1/auth/me')),
      unwrap(api.GET('/api/v1/auth/me')),
    ])
    expect(results.map((r) => r.role)).toEqual(['county_admin', 'county_admin', 'county_admin'])
    expect(net.refreshCount()).toBe(1)
    const meCalls = net.seen.filter((s) => s.path === '/api/v1/auth/me')
    expect(meCalls.map((s) => s.headers.get('Authorization'))).toEqual([
      'Bearer expired',
      'Bearer expired',
      'Bearer expired',
      'Bearer valid',
      'Bearer valid',
      'Bearer valid',
    ])
    expect(getAccessToken()).toBe('valid')
  })

  it('de-duplicates concurrent refreshes and sends the CSRF cookie value', async () => {
    const net = gateway({ refreshOk: true })
    const tokens = await Promise.all([refreshAccessToken(), refreshAccessToken()])
    expect(tokens).toEqual(['valid', 'valid'])
    expect(net.refreshCount()).toBe(1)
    const refresh = net.seen.find((s) => s.path === '/api/v1/auth/session/refresh')
    expect(refresh?.headers.get('X-CSRF-Token')).toBe('csrf-1')
    expect(refresh?.headers.has('Authorization')).toBe(false)
    await refreshAccessToken()
    expect(net.refreshCount()).toBe(2) // a later refresh is a new request
  })

  it('waits while another tab holds the refresh lock, then refreshes with the cookie it left', async () => {
    const net = gateway({ refreshOk: true })
    // A Web Locks stand-in: one queue per origin, as the browser keeps across tabs.
    let tail: Promise<unknown> = Promise.resolve()
    const names: string[] = []
    const locks = {
      request: (name: string, _options: unknown, task: () => Promise<unknown>): Promise<unknown> => {
        names.push(name)
        const run = tail.then(task)
        tail = run.catch(() => undefined)
        return run
      },
    }
    vi.stubGlobal('navigator', { locks })
    let release: () => void = () => undefined
    const otherTab = locks.request(REFRESH_LOCK, {}, () => new Promise<void>((resolve) => (release = resolve)))
    const mine = refreshAccessToken()
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(net.refreshCount()).toBe(0) // the other tab's refresh is still in flight
    release()
    await otherTab
    expect(await mine).toBe('valid')
    expect(net.refreshCount()).toBe(1)
    expect(names).toEqual([REFRESH_LOCK, REFRESH_LOCK])
  })

  it('adds an Idempotency-Key to every POST and keeps it on the retry after a refresh', async () => {
    const net = gateway({ refreshOk: true })
    const body = { name: '湖里区康乐护理院' } as never
    await unwrap(api.POST('/api/v1/registry/institutions', { body }))
    const posts = net.seen.filter((s) => s.method === 'POST' && s.path === '/api/v1/registry/institutions')
    expect(posts).toHaveLength(2)
    const key = posts[0]?.headers.get('Idempotency-Key')
    expect(key).toMatch(/^[0-9a-f-]{36}$/)
    expect(posts[1]?.headers.get('Idempotency-Key')).toBe(key)
  })

  it("uses the form's key for a double submit", async () => {
    const net = gateway({ refreshOk: true })
    setAccessToken('valid')
    const submit = useSubmitKey()
    const body = { name: '湖里区康乐护理院' }
    await Promise.all([
      api.POST('/api/v1/registry/institutions', { body: body as never, headers: submit.headers(body) }),
      api.POST('/api/v1/registry/institutions', { body: body as never, headers: submit.headers(body) }),
    ])
    const keys = net.seen.map((s) => s.headers.get('Idempotency-Key'))
    expect(keys).toHaveLength(2)
    expect(keys[0]).toBe(keys[1])
  })

  it('reports a lost session once the refresh fails, and does not retry', async () => {
    const net = gateway({ refreshOk: false })
    const lost = vi.fn()
    const stop = onSessionLost(lost)
    const failure = await unwrap(api.GET('/api/v1/auth/me')).catch((error: unknown) => error)
    stop()
    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(401)
    expect((failure as ApiError).code).toBe('token_expired')
    expect(lost).toHaveBeenCalledTimes(1)
    expect(net.seen.filter((s) => s.path === '/api/v1/auth/me')).toHaveLength(1)
    expect(getAccessToken()).toBeNull()
  })

  it('turns a network failure into ApiError status 0', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => Promise.reject(new TypeError('Failed to fetch'))))
    setAccessToken('valid')
    const failure = await unwrap(api.GET('/api/v1/auth/me')).catch((error: unknown) => error)
    expect(failure).toBeInstanceOf(ApiError)
    expect((failure as ApiError).status).toBe(0)
    expect((failure as ApiError).detail).toBe('网络连接失败，请检查网络后重试')
  })
})
