import 'fake-indexeddb/auto'

import { describe, expect, it } from 'vitest'

import { refusalOf } from '../api/nurse'
import { IdbQueueStorage } from './store'
import { MemoryQueueStorage, OfflineQueue, retryDelayMs, type ActionPayload, type QueuedAction, type QueueStorage, type SendOutcome } from './queue'

// A server as the homecare service behaves for the app: a step moves the order one state on when the
// If-Match version matches ('*' always), is answered again (same key) without applying twice, and is
// refused (409 with the current state) once the order is cancelled; a record needs its attachments.
const NEXT: Record<string, [string, string]> = {
  depart: ['assigned', 'en_route'],
  'check-in': ['en_route', 'checked_in'],
  start: ['checked_in', 'in_service'],
  'check-out': ['in_service', 'checked_out'],
  complete: ['checked_out', 'completed'],
}

class FakeServer {
  orders = new Map<string, { status: string; version: number }>()
  applied = new Map<string, SendOutcome>()
  attachments = new Set<string>()
  records = new Map<string, string>()
  sos = new Set<string>()
  log: string[] = []
  online = true
  /** keys whose response is lost once after the server applied them (the replay is cut mid-request) */
  loseAnswer = new Set<string>()

  order(id: string, version = 3): void {
    this.orders.set(id, { status: 'assigned', version })
  }

  cancel(id: string): void {
    const order = this.orders.get(id)
    if (order) Object.assign(order, { status: 'cancelled', version: order.version + 1 })
  }

  send = async (action: QueuedAction, expected: number | null): Promise<SendOutcome> => {
    if (!this.online) return { result: 'retry', detail: 'offline' }
    const outcome = this.apply(action, expected)
    if (this.loseAnswer.delete(action.key)) throw new TypeError('Failed to fetch')
    return outcome
  }

  private apply(action: QueuedAction, expected: number | null): SendOutcome {
    const seen = this.applied.get(action.key)
    if (seen) return seen
    const order = this.orders.get(action.orderId)
    if (!order) throw new Error('unknown order')
    let outcome: SendOutcome
    const refuse = (status: number, code: string): SendOutcome => {
      const refusal = refusalOf(status, { status, code, title: code, detail: `${code} detail`, extra: { current: { status: order.status, version: order.version } } })
      return { result: status === 412 ? 'conflict' : 'refused', refusal }
    }
    if (action.kind === 'attachment') {
      this.attachments.add(action.sha256)
      outcome = { result: 'applied', version: null, status: null }
    } else if (action.kind === 'record') {
      if (!['checked_in', 'in_service', 'checked_out'].includes(order.status)) return refuse(409, 'visit_record_closed')
      const missing = (action.body.photo_sha256 ?? []).some((sha) => !this.attachments.has(sha))
      if (missing) return refuse(422, 'attachment_missing')
      this.records.set(action.orderId, action.body.record_id)
      outcome = { result: 'applied', version: null, status: null }
    } else if (action.kind === 'sos') {
      this.sos.add(action.key)
      outcome = { result: 'applied', version: null, status: null }
    } else {
      const [from, to] = NEXT[action.kind] ?? ['', '']
      if (order.status !== from) return refuse(409, 'illegal_transition')
      if (expected !== null && expected !== order.version) return refuse(412, 'version_mismatch')
      order.status = to
      order.version += 1
      outcome = { result: 'applied', version: order.version, status: to }
    }
    this.log.push(`${action.orderId}:${action.kind}`)
    this.applied.set(action.key, outcome)
    return outcome
  }
}

const at = '2026-12-01T09:00:00+08:00'
const event = () => ({ client_event_id: crypto.randomUUID(), client_at: at })
const step = (kind: 'depart' | 'start' | 'complete'): ActionPayload =>
  kind === 'depart' ? { kind, body: { ...event(), is_mock_location: false } } : { kind, body: event() }
const located = (kind: 'check-in' | 'check-out'): ActionPayload => ({
  kind,
  body: { client_event_id: crypto.randomUUID(), client_at: at, latitude: 24.5, longitude: 118.1, is_mock_location: false },
})
const photo = (sha256: string): ActionPayload => ({ kind: 'attachment', sha256, contentType: 'image/png', data: new Uint8Array([1, 2, 3]).buffer, label: 'photo-1.png' })
const record = (photos: string[]): ActionPayload => ({
  kind: 'record',
  body: { record_id: crypto.randomUUID(), client_created_at: at, client_updated_at: at, items_done: ['HC01'], photo_sha256: photos },
})

/** A whole visit: depart, check-in, start, a photo, the record, check-out, complete. */
async function visit(queue: OfflineQueue, orderId: string, version: number, sha: string): Promise<void> {
  for (const payload of [step('depart'), located('check-in'), step('start'), photo(sha), record([sha]), located('check-out'), step('complete')]) {
    await queue.enqueue(payload, orderId, version)
  }
}

function setUp(storage: QueueStorage = new MemoryQueueStorage()): { server: FakeServer; queue: OfflineQueue; refusals: string[] } {
  const server = new FakeServer()
  const refusals: string[] = []
  const queue = new OfflineQueue(storage, server.send, { refused: (_action, refusal) => refusals.push(refusal.reason) })
  return { server, queue, refusals }
}

describe('OfflineQueue', () => {
  it('replays two offline visits in the order they were taken, each action once', async () => {
    const { server, queue } = setUp()
    server.order('a')
    server.order('b', 7)
    server.online = false
    await visit(queue, 'a', 3, 'a'.repeat(64))
    await visit(queue, 'b', 7, 'b'.repeat(64))
    const offline = await queue.replay()
    expect(offline).toMatchObject({ applied: 0, interrupted: true })
    expect((await queue.list()).map((a) => a.state)).toEqual(Array(14).fill('pending'))

    server.online = true
    expect(await queue.replay()).toMatchObject({ applied: 14, refused: 0, conflicts: 0, interrupted: false })
    expect(await queue.list()).toEqual([])
    const kinds = ['depart', 'check-in', 'start', 'attachment', 'record', 'check-out', 'complete']
    expect(server.log).toEqual([...kinds.map((k) => `a:${k}`), ...kinds.map((k) => `b:${k}`)])
    expect(server.orders.get('a')).toEqual({ status: 'completed', version: 8 })
    expect(server.orders.get('b')).toEqual({ status: 'completed', version: 12 })
  })

  it('after an interrupted replay (the answer lost mid-request) sends the same key again: applied once', async () => {
    const { server, queue } = setUp()
    server.order('a')
    await visit(queue, 'a', 3, 'c'.repeat(64))
    const actions = await queue.list()
    const lost = actions[4] // the record: applied on the server, its answer never came
    server.loseAnswer.add(lost?.key ?? '')
    const first = await queue.replay()
    expect(first).toMatchObject({ applied: 4, interrupted: true })
    const left = await queue.list()
    expect(left[0]?.key).toBe(lost?.key)
    expect(left[0]?.state).toBe('pending')
    expect(left[0]?.attempts).toBe(1)

    expect(await queue.replay()).toMatchObject({ applied: 3, interrupted: false })
    expect(server.log.filter((entry) => entry === 'a:record')).toHaveLength(1)
    expect(server.records.size).toBe(1)
    // and a replay of nothing changes nothing
    expect(await queue.replay()).toMatchObject({ applied: 0, interrupted: false })
  })

  it('an action left "sending" by a closed app is sent again', async () => {
    const storage = new MemoryQueueStorage()
    const { server, queue } = setUp(storage)
    server.order('a')
    const action = await queue.enqueue(step('depart'), 'a', 3)
    await storage.put({ ...action, state: 'sending' })
    expect(await queue.replay()).toMatchObject({ applied: 1 })
    expect(server.orders.get('a')?.status).toBe('en_route')
  })

  it('an order cancelled while offline: each of its actions refused with the reason, the other order goes on', async () => {
    const { server, queue, refusals } = setUp()
    server.order('a')
    server.order('b')
    server.online = false
    await visit(queue, 'a', 3, 'd'.repeat(64))
    await queue.enqueue(step('depart'), 'b', 3)
    server.cancel('a')
    server.online = true
    const report = await queue.replay()
    expect(report).toMatchObject({ applied: 2, refused: 6, interrupted: false }) // a's photo, b's depart
    const left = await queue.list()
    expect(left.map((a) => [a.kind, a.state])).toEqual([
      ['depart', 'refused'],
      ['check-in', 'refused'],
      ['start', 'refused'],
      ['record', 'refused'],
      ['check-out', 'refused'],
      ['complete', 'refused'],
    ])
    const recordRefusal = left[3]?.refusal
    expect(recordRefusal).toMatchObject({ code: 'visit_record_closed', cancelled: true, reason: '该工单已被取消', detail: 'visit_record_closed detail' })
    expect(new Set(refusals)).toEqual(new Set(['该工单已被取消']))
    expect(server.orders.get('b')?.status).toBe('en_route')
    // refused actions are not sent again; the nurse dismisses them
    expect(await queue.replay()).toMatchObject({ applied: 0, refused: 0 })
    for (const action of left) await queue.dismiss(action.seq ?? -1)
    expect(await queue.list()).toEqual([])
  })

  it('a stale version holds the order back until the nurse sends again against the current version', async () => {
    const { server, queue } = setUp()
    server.order('a', 3)
    server.order('b', 3)
    server.online = false
    await queue.enqueue(step('depart'), 'a', 3)
    await queue.enqueue(located('check-in'), 'a', 3)
    await queue.enqueue(step('depart'), 'b', 3)
    server.orders.set('a', { status: 'assigned', version: 5 }) // the dispatcher changed the order meanwhile
    server.online = true
    expect(await queue.replay()).toMatchObject({ applied: 1, conflicts: 1 })
    let left = await queue.list()
    expect(left.map((a) => [a.kind, a.state])).toEqual([
      ['depart', 'conflict'],
      ['check-in', 'pending'],
    ])
    expect(left[0]?.refusal).toMatchObject({ status: 412, currentVersion: 5 })
    expect(await queue.replay()).toMatchObject({ applied: 0, conflicts: 0 }) // still held back
    await queue.resend('a', 5)
    expect(await queue.replay()).toMatchObject({ applied: 2 })
    left = await queue.list()
    expect(left).toEqual([])
    expect(server.orders.get('a')).toEqual({ status: 'checked_in', version: 7 })
  })

  it('a record whose photo was refused is refused too (attachments go first)', async () => {
    const server = new FakeServer()
    server.orders.set('a', { status: 'in_service', version: 6 })
    const wrongType = refusalOf(415, { status: 415, code: 'unsupported_media_type', title: 'x', detail: '不支持的文件类型' })
    const queue = new OfflineQueue(new MemoryQueueStorage(), async (action, expected) =>
      action.kind === 'attachment' ? { result: 'refused', refusal: wrongType } : server.send(action, expected),
    )
    const sha = 'e'.repeat(64)
    await queue.enqueue(photo(sha), 'a', 6)
    await queue.enqueue(record([sha]), 'a', 6)
    expect(await queue.replay()).toMatchObject({ refused: 2 })
    const left = await queue.list()
    expect(left.map((a) => a.refusal?.code)).toEqual(['unsupported_media_type', 'attachment_missing'])
    expect(left[1]?.refusal?.reason).toBe('照片或签名未能上传，服务记录无法提交')
  })

  it('one replay at a time: a call during a replay runs again after it', async () => {
    const { server, queue } = setUp()
    server.order('a')
    await queue.enqueue(step('depart'), 'a', 3)
    const first = queue.replay()
    await queue.enqueue(located('check-in'), 'a', 3)
    const second = queue.replay()
    await Promise.all([first, second])
    expect(server.log).toEqual(['a:depart', 'a:check-in'])
  })

  it('backs off 2 s, 4 s, 8 s … up to a minute', () => {
    expect([1, 2, 3, 4, 10].map(retryDelayMs)).toEqual([2000, 4000, 8000, 16000, 60000])
  })
})

describe('IdbQueueStorage (IndexedDB)', () => {
  it('keeps the order, the versions and the bytes of a photo across instances', async () => {
    const { server, queue } = setUp(new IdbQueueStorage())
    server.order('x', 2)
    server.online = false
    await visit(queue, 'x', 2, 'f'.repeat(64))
    const again = new OfflineQueue(new IdbQueueStorage(), server.send)
    const stored = await again.list()
    expect(stored.map((a) => a.kind)).toEqual(['depart', 'check-in', 'start', 'attachment', 'record', 'check-out', 'complete'])
    const attachment = stored[3]
    expect(attachment?.kind === 'attachment' && new Uint8Array(attachment.data)).toEqual(new Uint8Array([1, 2, 3]))
    server.online = true
    expect(await again.replay()).toMatchObject({ applied: 7 })
    expect(await again.list()).toEqual([])
    expect(server.orders.get('x')).toEqual({ status: 'completed', version: 7 })
  })
})

describe('refusalOf (the problems the homecare service answers)', () => {
  it('an illegal transition on a cancelled order (extra.state)', () => {
    const refusal = refusalOf(409, {
      status: 409,
      code: 'illegal_transition',
      title: 'Conflict',
      detail: '订单当前状态为 cancelled，不能执行 depart（允许的操作：无）',
      extra: { state: 'cancelled', action: 'depart', allowed: [] },
    })
    expect(refusal).toMatchObject({ cancelled: true, reason: '该工单已被取消', currentStatus: 'cancelled', code: 'illegal_transition' })
  })

  it('a visit record on a closed order (extra.current)', () => {
    const refusal = refusalOf(409, { status: 409, code: 'visit_record_closed', title: 'Conflict', detail: '订单当前状态不能提交或修改服务记录', extra: { current: { status: 'cancelled', version: 9 } } })
    expect(refusal).toMatchObject({ cancelled: true, currentVersion: 9, detail: '订单当前状态不能提交或修改服务记录' })
  })

  it('a stale version (412, extra.current_version) and a problem without extra', () => {
    expect(refusalOf(412, { status: 412, code: 'version_mismatch', title: 'x', detail: '记录已被他人修改', extra: { current_version: 8 } })).toMatchObject({
      cancelled: false,
      currentVersion: 8,
      reason: '工单已被调度修改（版本已变化），已重新加载，请核对后重新提交或放弃',
    })
    expect(refusalOf(422, null)).toMatchObject({ code: 'http_422', detail: '', reason: '服务器拒绝了此操作' })
  })
})
