// What the nurse app asks the platform, in one small typed module (the typed client of the console):
// loading the day, and sending one queued action. The day is read today from GET /my/assignments and,
// per assignment, GET /orders/{id} (whole address, coordinates, version) and GET /recipients/{id}
// (phone, notes); when the day bundle (GET /nurse/bundle) lands it replaces `loadDay` here alone.
import { api } from '@/api/client'
import { ApiError, isProblem } from '@/api/problem'
import type { components } from '@/api/schema'

import { NURSE_DAYS } from '../config'
import type { QueuedAction, Refusal, SendOutcome } from '../offline/queue'
import type { DayOrder } from '../offline/store'

type OrderRead = components['schemas']['OrderRead']
type RecipientRead = components['schemas']['RecipientRead']

export const CANCELLED_REASON = '该工单已被取消'

function recipientNotes(recipient: RecipientRead | null): string[] {
  if (!recipient) return []
  const notes: string[] = []
  if (recipient.disability_level > 0) notes.push(`失能：${recipient.disability_label}`)
  if (recipient.dementia) notes.push('失智')
  if (recipient.chronic_diseases.length) notes.push(`慢性病：${recipient.chronic_diseases.join('、')}`)
  if (recipient.emergency_contact) notes.push(`紧急联系人：${recipient.emergency_contact.name} ${recipient.emergency_contact.phone}`)
  return notes
}

export function dayOrder(order: OrderRead, recipient: RecipientRead | null, previous?: DayOrder): DayOrder {
  return {
    id: order.id,
    status: order.status,
    statusLabel: order.status_label,
    version: order.version,
    windowStart: order.window_start,
    windowEnd: order.window_end,
    recipientName: order.recipient_name,
    address: order.address,
    phone: recipient?.phone ?? previous?.phone ?? null,
    latitude: order.latitude,
    longitude: order.longitude,
    items: order.items.map((item) => ({ code: item.item_code, name: item.item_name })),
    notes: recipient ? recipientNotes(recipient) : (previous?.notes ?? []),
    endReason: order.end_reason,
    sos: previous?.sos ?? null,
    recordId: previous?.recordId ?? null,
    loadedAt: new Date().toISOString(),
  }
}

async function getOrder(id: string): Promise<OrderRead> {
  const { data, error, response } = await api.GET('/api/v1/homecare/orders/{order_id}', { params: { path: { order_id: id } } })
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null)
  return data
}

async function getRecipient(id: string): Promise<RecipientRead | null> {
  const { data } = await api.GET('/api/v1/homecare/recipients/{recipient_id}', { params: { path: { recipient_id: id } } })
  return data ?? null
}

/** The nurse's assignments of today and tomorrow with what the visit needs. Throws ApiError (status 0
 * when offline). */
export async function loadDay(previous: Map<string, DayOrder>): Promise<DayOrder[]> {
  const { data, error, response } = await api.GET('/api/v1/homecare/my/assignments', { params: { query: { days: NURSE_DAYS } } })
  if (!response.ok || !data) throw new ApiError(response.status, isProblem(error) ? error : null)
  return Promise.all(
    data.map(async (assignment) => {
      const order = await getOrder(assignment.order_id)
      return dayOrder(order, await getRecipient(order.recipient_id), previous.get(order.id))
    }),
  )
}

/** One order as it stands now (after a conflict, or to learn why it left the day's list). */
export async function loadOrder(id: string, previous?: DayOrder): Promise<DayOrder> {
  return dayOrder(await getOrder(id), null, previous)
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
    const body = (data ?? {}) as { version?: unknown; status?: unknown; resolved_at?: unknown }
    return {
      result: 'applied',
      version: typeof body.version === 'number' ? body.version : null,
      status: typeof body.status === 'string' ? body.status : null,
      sosResolved: body.resolved_at !== undefined ? body.resolved_at !== null : undefined,
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

/** Whether the institution has acknowledged (resolved) an SOS: the same alert sent again answers its
 * current state (the server keys it by `client_event_id`). Null when it could not be asked. */
export async function sosAcknowledged(orderId: string, body: components['schemas']['SosRaise']): Promise<{ acknowledged: boolean; resolution: string | null } | null> {
  if (!navigator.onLine) return null
  try {
    const { data } = await api.POST('/api/v1/homecare/orders/{order_id}/sos', { params: { path: { order_id: orderId } }, body })
    if (!data) return null
    return { acknowledged: data.resolved_at !== null, resolution: data.resolution }
  } catch {
    return null
  }
}
