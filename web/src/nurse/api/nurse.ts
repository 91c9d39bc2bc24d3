// What the nurse app asks the platform, in one small typed module (the typed client of the console):
// the day's bundle (GET /nurse/bundle: her orders of today and tomorrow with the person's contact,
// notes, catalog items and their record templates, ETag/304), the order events after a cursor (GET /events/feed: cancellations,
// reschedules, SOS acknowledgements …), one order as it stands (after a conflict), and sending one
// queued action.
import { api } from '@/api/client'
import { ApiError, isProblem } from '@/api/problem'
import type { components } from '@/api/schema'

import { NURSE_DAYS } from '../config'
import type { QueuedAction, Refusal, SendOutcome } from '../offline/queue'
import type { DayOrder } from '../offline/store'
import type { Templates } from '../templates'

type OrderRead = components['schemas']['OrderRead']
type BundleAssignment = components['schemas']['BundleAssignment']
type BundleCatalogItem = components['schemas']['BundleCatalogItem']
export type EventFeedPage = components['schemas']['EventFeedPage']
export type OrderEvent = EventFeedPage['items'][number]

export const CANCELLED_REASON = '该工单已被取消'

export const STATUS_LABELS: Record<string, string> = {
  assigned: '待出发',
  en_route: '在途',
  checked_in: '已签到',
  in_service: '服务中',
  checked_out: '已签退',
  completed: '已完成',
  rated: '已评价',
  cancelled: '已取消',
  incident: '异常终止',
}

function notesOf(notes: BundleAssignment['notes']): string[] {
  const lines: string[] = []
  // the level of the latest ability assessment (issue 19), the declared one only for an elder never assessed
  const source = notes.assessment
    ? `（能力评估 ${notes.assessment.assessed_date}）`
    : notes.disability_source === 'declared'
      ? '（登记，未评估）'
      : ''
  if (notes.disability_level > 0) lines.push(`失能：${notes.disability_label}${source}`)
  if (notes.dementia) lines.push('失智')
  if (notes.chronic_diseases.length) lines.push(`慢性病：${notes.chronic_diseases.join('、')}`)
  if (notes.order_note) lines.push(`备注：${notes.order_note}`)
  return lines
}

function fromBundle(assignment: BundleAssignment, items: Map<string, BundleCatalogItem>, previous?: DayOrder): DayOrder {
  const { order, person, notes } = assignment
  return {
    id: order.id,
    status: order.status,
    statusLabel: STATUS_LABELS[order.status] ?? order.status,
    version: order.version,
    windowStart: order.window_start,
    windowEnd: order.window_end,
    recipientName: person.name,
    address: order.address,
    phone: person.phone,
    latitude: order.latitude,
    longitude: order.longitude,
    items: order.item_codes.map((code) => ({ code, name: items.get(`${order.catalog_version_code}/${code}`)?.name ?? code })),
    notes: notesOf(notes),
    endReason: previous?.endReason ?? null,
    sos: previous?.sos ?? null,
    recordId: previous?.recordId ?? null,
    loadedAt: new Date().toISOString(),
  }
}

export interface DayBundle {
  orders: DayOrder[]
  eventsCursor: string
  templates: Templates
  etag: string | null
}

/** The nurse's day (today and tomorrow): null when unchanged since `etag` (304). Throws ApiError
 * (status 0 when offline). */
export async function loadDay(previous: Map<string, DayOrder>, etag: string | null): Promise<DayBundle | null> {
  const { data, error, response } = await api.GET('/api/v1/homecare/nurse/bundle', {
    params: { query: { days: NURSE_DAYS }, header: etag ? { 'if-none-match': etag } : {} },
  })
  if (response.status === 304) return null
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null)
  const items = new Map(data.catalog_items.map((item) => [`${item.catalog_version_code}/${item.code}`, item]))
  return {
    orders: data.assignments.map((a) => fromBundle(a, items, previous.get(a.order.id))),
    eventsCursor: data.events_cursor,
    templates: data.record_templates,
    etag: response.headers.get('ETag'),
  }
}

/** The order events as server-sent events (read by ./stream.ts; the same items as the feed). */
export const EVENTS_STREAM_PATH = '/api/v1/homecare/events'

/** The order events after `cursor` (one page). */
export async function loadEvents(cursor: string | null): Promise<EventFeedPage> {
  const { data, error, response } = await api.GET('/api/v1/homecare/events/feed', { params: { query: cursor ? { after: cursor } : {} } })
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null)
  return data
}

/** One order as it stands now (after a conflict): the fields an order read has; the rest kept. */
export async function loadOrder(id: string, previous: DayOrder): Promise<DayOrder> {
  const { data, error, response } = await api.GET('/api/v1/homecare/orders/{order_id}', { params: { path: { order_id: id } } })
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null)
  const order: OrderRead = data
  return {
    ...previous,
    status: order.status,
    statusLabel: order.status_label,
    version: order.version,
    windowStart: order.window_start,
    windowEnd: order.window_end,
    endReason: order.end_reason,
    loadedAt: new Date().toISOString(),
  }
}

interface Current {
  status?: unknown
  version?: unknown
}

/** The order's state a problem reports: `extra.current` (visit records, stale steps), `extra.state`
 * (an illegal transition), `extra.current_version` (412). */
function currentOf(problem: unknown): Current {
  if (!isProblem(problem) || typeof problem.extra !== 'object' || problem.extra === null) return {}
  const extra = problem.extra as { current?: unknown; state?: unknown; current_version?: unknown }
  const current = typeof extra.current === 'object' && extra.current !== null ? (extra.current as Current) : {}
  return { status: current.status ?? extra.state, version: current.version ?? extra.current_version }
}

/** The server's answer to a refused action, explained for the nurse. */
export function refusalOf(status: number, problem: unknown): Refusal {
  const code = isProblem(problem) ? problem.code : `http_${status}`
  const detail = isProblem(problem) ? (problem.detail ?? '') : ''
  const current = currentOf(problem)
  const currentStatus = typeof current.status === 'string' ? current.status : null
  const currentVersion = typeof current.version === 'number' ? current.version : null
  const cancelled = currentStatus === 'cancelled'
  let reason: string
  if (cancelled) reason = CANCELLED_REASON
  else if (status === 412) reason = '工单已被调度修改（版本已变化），已重新加载，请核对后重新提交或放弃'
  else if (code === 'illegal_transition') reason = '工单当前状态不允许此操作'
  else if (code === 'attachment_missing') reason = '照片或签名未能上传，服务记录无法提交'
  else reason = '服务器拒绝了此操作'
  return { status, code, detail, reason, cancelled, currentStatus, currentVersion }
}

interface Answer {
  data?: unknown
  error?: unknown
  response: Response
}

function outcomeOf({ data, error, response }: Answer): SendOutcome {
  const status = response.status
  if (response.ok) {
    const body = (data ?? {}) as { version?: unknown; status?: unknown }
    return {
      result: 'applied',
      version: typeof body.version === 'number' ? body.version : null,
      status: typeof body.status === 'string' ? body.status : null,
    }
  }
  if (status === 401 || status === 408 || status === 429 || status >= 500) {
    return { result: 'retry', detail: `HTTP ${status}` }
  }
  const refusal = refusalOf(status, error)
  return status === 412 ? { result: 'conflict', refusal } : { result: 'refused', refusal }
}

/** Sends one queued action; a request that did not reach the server (offline, aborted) is a `retry`. */
export async function sendAction(action: QueuedAction, expectedVersion: number | null): Promise<SendOutcome> {
  if (typeof navigator !== 'undefined' && !navigator.onLine) return { result: 'retry', detail: 'offline' }
  const key = { 'Idempotency-Key': action.key }
  const ifMatch = expectedVersion === null ? '*' : `"${expectedVersion}"`
  const path = { order_id: action.orderId }
  try {
    switch (action.kind) {
      case 'depart':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/depart', { params: { path, header: { 'If-Match': ifMatch } }, body: action.body, headers: key }))
      case 'check-in':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/check-in', { params: { path, header: { 'If-Match': ifMatch } }, body: action.body, headers: key }))
      case 'start':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/start', { params: { path, header: { 'If-Match': ifMatch } }, body: action.body, headers: key }))
      case 'check-out':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/check-out', { params: { path, header: { 'If-Match': ifMatch } }, body: action.body, headers: key }))
      case 'complete':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/complete', { params: { path, header: { 'If-Match': ifMatch } }, body: action.body, headers: key }))
      case 'record':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/visit-record', { params: { path }, body: action.body, headers: key }))
      case 'sos':
        return outcomeOf(await api.POST('/api/v1/homecare/orders/{order_id}/sos', { params: { path }, body: action.body, headers: key }))
      case 'attachment': {
        const file = new Blob([action.data], { type: action.contentType })
        return outcomeOf(
          await api.POST('/api/v1/homecare/attachments', {
            body: { file: action.label, sha256: action.sha256 },
            headers: key,
            bodySerializer: () => {
              const form = new FormData()
              form.append('file', file, action.label)
              form.append('sha256', action.sha256)
              return form
            },
          }),
        )
      }
    }
  } catch (error) {
    if (error instanceof DOMException && error.name === 'AbortError') throw error
    return { result: 'retry', detail: 'network' }
  }
}
