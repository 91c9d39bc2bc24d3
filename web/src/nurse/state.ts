// The app's shared state: the day's orders (from IndexedDB, refreshed from the server when online), the
// outbox and the network. Screens read these refs and call `act` — every action goes through the queue,
// online or not, so there is one path to the server.
import { ref } from 'vue'

import { ApiError } from '@/api/problem'
import { getAccessToken, refreshAccessToken } from '@/api/session'

import { EVENTS_STREAM_PATH, STATUS_LABELS, loadDay, loadEvents, loadOrder, sendAction, type OrderEvent } from './api/nurse'
import { EventStream, type SseFrame, type StreamState } from './api/stream'
import { NURSE_POLL_MS, NURSE_STREAM } from './config'
import { OfflineQueue, isStep, retryDelayMs, type ActionPayload, type QueuedAction, type StepKind } from './offline/queue'
import { resume } from './session'
import type { Templates } from './templates'
import { IdbQueueStorage, cachedOrders, clearDay, readMeta, saveDay, saveOrder, writeMeta, type DayOrder } from './offline/store'

export const STEP_TARGET: Record<StepKind, string> = {
  depart: 'en_route',
  'check-in': 'checked_in',
  start: 'in_service',
  'check-out': 'checked_out',
  complete: 'completed',
}

export { STATUS_LABELS }

export const orders = ref<DayOrder[]>([])
export const queue = ref<QueuedAction[]>([])
export const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
export const loading = ref(false)
export const loadError = ref<string | null>(null)
/** The catalog's record templates as last loaded (kept for offline use). */
export const templates = ref<Templates | null>(null)
/** The order-event stream: `live` while news arrives as it happens, `polling` when it failed (the feed
 * is read every NURSE_POLL_MS instead). */
export const streamState = ref<StreamState>('stopped')

async function refreshQueue(): Promise<void> {
  queue.value = await outbox.list()
}

async function updateOrder(id: string, change: (order: DayOrder) => void): Promise<void> {
  const order = orders.value.find((o) => o.id === id)
  if (!order) return
  change(order)
  await saveOrder(JSON.parse(JSON.stringify(order)) as DayOrder)
}

export const outbox = new OfflineQueue(new IdbQueueStorage(), sendAction, {
  applied(action, outcome) {
    void updateOrder(action.orderId, (order) => {
      if (isStep(action.kind) && outcome.version !== null) {
        order.version = outcome.version
        if (outcome.status) {
          order.status = outcome.status
          order.statusLabel = STATUS_LABELS[outcome.status] ?? outcome.status
        }
      }
      if (action.kind === 'sos' && order.sos && order.sos.key === action.key) order.sos.delivered = true
    })
  },
  refused(action, refusal) {
    if (refusal.cancelled) {
      void updateOrder(action.orderId, (order) => {
        order.status = 'cancelled'
        order.statusLabel = STATUS_LABELS.cancelled ?? '已取消'
      })
    }
    if (refusal.status === 412) void reloadOrder(action.orderId)
  },
  changed() {
    void refreshQueue()
  },
})

/** The status the nurse sees: the server's, moved on by the steps still queued (not refused). */
export function localStatus(order: DayOrder, actions: QueuedAction[] = queue.value): string {
  let status = order.status
  if (status === 'cancelled') return status
  for (const action of actions) {
    if (action.orderId === order.id && isStep(action.kind) && action.state !== 'refused') status = STEP_TARGET[action.kind]
  }
  return status
}

/** Whether the nurse has saved this order's visit record (sent or still queued). */
export function recordSaved(order: DayOrder): boolean {
  return order.recordId !== null
}

let failures = 0
let retryTimer: ReturnType<typeof setTimeout> | null = null

/** Replays the outbox now if the phone is online; after a network failure, again with backoff. */
export async function flush(): Promise<void> {
  if (retryTimer !== null) {
    clearTimeout(retryTimer)
    retryTimer = null
  }
  if (!navigator.onLine) return
  const report = await outbox.replay()
  await refreshQueue()
  if (report.interrupted) {
    failures += 1
    retryTimer = setTimeout(() => void flush(), retryDelayMs(failures))
  } else {
    failures = 0
  }
}

/** Takes actions (in this order): queued first, then sent at once when online. */
export async function actMany(order: DayOrder, payloads: ActionPayload[], key?: string): Promise<void> {
  for (const payload of payloads) {
    await outbox.enqueue(payload, order.id, order.version, payloads.length === 1 ? key : undefined)
    if (payload.kind === 'record') {
      const recordId = payload.body.record_id
      await updateOrder(order.id, (o) => {
        o.recordId = recordId
      })
    }
  }
  await refreshQueue()
  void flush()
}

async function reloadOrder(id: string): Promise<void> {
  const previous = orders.value.find((o) => o.id === id)
  if (!previous) return
  try {
    const fresh = await loadOrder(id, previous)
    const index = orders.value.findIndex((o) => o.id === id)
    if (index >= 0) orders.value[index] = fresh
    await saveOrder(fresh)
  } catch {
    // offline again: the cached order stays
  }
}

const BUNDLE_ETAG = 'bundle_etag'
const EVENTS_CURSOR = 'events_cursor'
const TEMPLATES = 'templates'
/** The day from the cache, then from the server when online: the bundle (unchanged: 304), then the
 * order events since. Orders with queued work stay on the phone even if the bundle no longer has them. */
export async function loadOrders(): Promise<void> {
  orders.value = await cachedOrders()
  if (templates.value === null) {
    const kept = await readMeta(TEMPLATES)
    if (kept) templates.value = JSON.parse(kept) as Templates
  }
  await refreshQueue()
  if (!navigator.onLine) return
  loading.value = true
  loadError.value = null
  try {
    const previous = new Map(orders.value.map((o) => [o.id, o]))
    const bundle = await loadDay(previous, await readMeta(BUNDLE_ETAG))
    if (bundle !== null) {
      const busy = new Set(queue.value.map((a) => a.orderId))
      await saveDay(bundle.orders, (o) => busy.has(o.id))
      await writeMeta(EVENTS_CURSOR, bundle.eventsCursor)
      templates.value = bundle.templates
      await writeMeta(TEMPLATES, JSON.stringify(bundle.templates))
      if (bundle.etag) await writeMeta(BUNDLE_ETAG, bundle.etag)
      orders.value = await cachedOrders()
    }
    await followEvents()
  } catch (error) {
    loadError.value = error instanceof ApiError ? error.detail : '加载失败'
  } finally {
    loading.value = false
  }
}

/** What an order event changes on the phone; true when the day must be loaded again (an order was
 * assigned to or taken from the nurse). */
async function applyEvent(event: OrderEvent): Promise<boolean> {
  switch (event.type) {
    case 'assigned':
    case 'unassigned':
      return true
    case 'cancelled':
    case 'completed':
      await updateOrder(event.order_id, (o) => {
        o.status = event.payload.order_status
        o.statusLabel = STATUS_LABELS[o.status] ?? o.status
        o.version = event.payload.order_version
      })
      return false
    case 'rescheduled':
      await updateOrder(event.order_id, (o) => {
        o.windowStart = event.payload.window_start
        o.windowEnd = event.payload.window_end
      })
      return false
    case 'sos_acknowledged':
      await updateOrder(event.order_id, (o) => {
        if (o.sos) {
          o.sos.delivered = true
          o.sos.acknowledged = true
          o.sos.acknowledgedAt = event.payload.resolved_at ?? event.occurred_at
        }
      })
      return false
    case 'sos_raised':
      return false
  }
}

let following: Promise<void> | null = null
/** Events from the feed and from the stream are applied one batch at a time, in arrival order. */
let applying: Promise<unknown> = Promise.resolve()

function serially<T>(work: () => Promise<T>): Promise<T> {
  const next = applying.then(work)
  applying = next.catch(() => undefined)
  return next
}

async function reloadDay(): Promise<void> {
  await writeMeta(BUNDLE_ETAG, '') // the bundle changed: load it whole
  void loadOrders()
}

/** Reads the order events since the stored cursor (all pages) and applies them. */
export function followEvents(): Promise<void> {
  following ??= (async () => {
    let reload = false
    try {
      reload = await serially(async () => {
        let changed = false
        let cursor = await readMeta(EVENTS_CURSOR)
        for (;;) {
          const page = await loadEvents(cursor)
          for (const event of page.items) changed = (await applyEvent(event)) || changed
          cursor = page.next_cursor
          await writeMeta(EVENTS_CURSOR, cursor)
          if (!page.has_more) break
        }
        return changed
      })
    } catch {
      // offline or refused: the next poll tries again from the same cursor
    } finally {
      following = null
    }
    if (reload) await reloadDay()
  })()
  return following
}

/** One event of the stream: applied like the feed's, then its id is the cursor. */
function streamedEvent(frame: SseFrame): Promise<void> {
  return serially(async () => {
    let event: OrderEvent
    try {
      event = JSON.parse(frame.data) as OrderEvent
    } catch {
      return // not an event of ours: skipped
    }
    const reload = await applyEvent(event)
    if (frame.id) await writeMeta(EVENTS_CURSOR, frame.id)
    if (reload) await reloadDay()
  })
}

const stream = new EventStream({
  url: EVENTS_STREAM_PATH,
  token: getAccessToken,
  refreshToken: refreshAccessToken,
  lastId: () => readMeta(EVENTS_CURSOR),
  onFrame: streamedEvent,
  async onReady(id) {
    // a first stream before the day was ever loaded starts at the latest event: keep that as the cursor
    if (id && (await readMeta(EVENTS_CURSOR)) === null) await writeMeta(EVENTS_CURSOR, id)
  },
  onState(state) {
    streamState.value = state
  },
  ...NURSE_STREAM,
  retryDelayMs,
})

export async function raiseSos(order: DayOrder, position: { latitude: number; longitude: number } | null): Promise<void> {
  const key = crypto.randomUUID()
  const sentAt = new Date().toISOString()
  await updateOrder(order.id, (o) => {
    o.sos = { key, sentAt, delivered: false, acknowledged: false, acknowledgedAt: null }
  })
  await actMany(order, [{ kind: 'sos', body: { client_event_id: key, client_at: sentAt, ...(position ?? {}) } }], key)
}

function wentOnline(): void {
  online.value = true
  void resume()
    .then(() => flush())
    .then(() => loadOrders())
    .then(() => stream.start())
}

function wentOffline(): void {
  online.value = false
  void stream.stop()
}

let pollTimer: ReturnType<typeof setInterval> | null = null

/** Once signed in: network listeners, the first replay, the order-event stream while online and a
 * periodic look for news when the stream is not open. */
export function startSync(): void {
  if (pollTimer !== null) return
  online.value = navigator.onLine
  window.addEventListener('online', wentOnline)
  window.addEventListener('offline', wentOffline)
  pollTimer = setInterval(() => {
    if (navigator.onLine && stream.state !== 'live') void followEvents()
  }, NURSE_POLL_MS)
  if (navigator.onLine) stream.start()
  void flush()
}

export async function stopSync(): Promise<void> {
  window.removeEventListener('online', wentOnline)
  window.removeEventListener('offline', wentOffline)
  if (pollTimer !== null) clearInterval(pollTimer)
  pollTimer = null
  await stream.stop()
  orders.value = []
  await clearDay()
}
