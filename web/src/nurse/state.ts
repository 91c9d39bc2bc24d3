// The app's shared state: the day's orders (from IndexedDB, refreshed from the server when online), the
// outbox and the network. Screens read these refs and call `act` — every action goes through the queue,
// online or not, so there is one path to the server.
import { ref } from 'vue'

import { ApiError } from '@/api/problem'

import { loadDay, loadOrder, sendAction, sosAcknowledged } from './api/nurse'
import { NURSE_POLL_MS } from './config'
import { shanghaiDate } from './format'
import { OfflineQueue, isStep, retryDelayMs, type ActionPayload, type QueuedAction, type StepKind } from './offline/queue'
import { resume } from './session'
import { IdbQueueStorage, cachedOrders, clearDay, saveDay, saveOrder, type DayOrder } from './offline/store'

export const STEP_TARGET: Record<StepKind, string> = {
  depart: 'en_route',
  'check-in': 'checked_in',
  start: 'in_service',
  'check-out': 'checked_out',
  complete: 'completed',
}

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

export const orders = ref<DayOrder[]>([])
export const queue = ref<QueuedAction[]>([])
export const online = ref(typeof navigator === 'undefined' ? true : navigator.onLine)
export const loading = ref(false)
export const loadError = ref<string | null>(null)

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
      if (action.kind === 'sos' && order.sos && order.sos.key === action.key) {
        order.sos.delivered = true
        order.sos.acknowledged = outcome.sosResolved === true
      }
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
  try {
    const fresh = await loadOrder(id, previous)
    const index = orders.value.findIndex((o) => o.id === id)
    if (index >= 0) orders.value[index] = fresh
    await saveOrder(fresh)
  } catch {
    // offline again: the cached order stays
  }
}

/** The day from the cache, then from the server when online (orders with queued work, and cancelled
 * ones, stay on the phone: the nurse must see what became of them). */
export async function loadOrders(): Promise<void> {
  orders.value = await cachedOrders()
  await refreshQueue()
  if (!navigator.onLine) return
  loading.value = true
  loadError.value = null
  try {
    const previous = new Map(orders.value.map((o) => [o.id, o]))
    const fresh = await loadDay(previous)
    const listed = new Set(fresh.map((o) => o.id))
    // orders that left the list (done, cancelled …) stay for the rest of their day, as they are now:
    // the nurse sees what became of them (and an SOS's acknowledgement); those with queued work stay
    const today = shanghaiDate(new Date())
    const busy = new Set(queue.value.map((a) => a.orderId))
    const stays = (o: DayOrder): boolean => busy.has(o.id) || shanghaiDate(new Date(o.windowEnd)) >= today
    const gone = orders.value.filter((o) => !listed.has(o.id) && stays(o))
    const departed = await Promise.all(gone.map((o) => loadOrder(o.id, o).catch(() => o)))
    await saveDay([...fresh, ...departed], stays)
    orders.value = await cachedOrders()
  } catch (error) {
    loadError.value = error instanceof ApiError ? error.detail : '加载失败'
  } finally {
    loading.value = false
  }
  await checkSos()
}

/** Asks about each delivered SOS not yet acknowledged. */
export async function checkSos(): Promise<void> {
  for (const order of orders.value) {
    const sos = order.sos
    if (!sos || !sos.delivered || sos.acknowledged) continue
    const answer = await sosAcknowledged(order.id, { client_event_id: sos.key, client_at: sos.sentAt })
    if (answer?.acknowledged) {
      await updateOrder(order.id, (o) => {
        if (o.sos) {
          o.sos.acknowledged = true
          o.sos.resolution = answer.resolution
        }
      })
    }
  }
}

export async function raiseSos(order: DayOrder, position: { latitude: number; longitude: number } | null): Promise<void> {
  const key = crypto.randomUUID()
  const sentAt = new Date().toISOString()
  await updateOrder(order.id, (o) => {
    o.sos = { key, sentAt, delivered: false, acknowledged: false, resolution: null }
  })
  await actMany(order, [{ kind: 'sos', body: { client_event_id: key, client_at: sentAt, ...(position ?? {}) } }], key)
}

function wentOnline(): void {
  online.value = true
  void resume()
    .then(() => flush())
    .then(() => loadOrders())
}

function wentOffline(): void {
  online.value = false
}

let pollTimer: ReturnType<typeof setInterval> | null = null

/** Once signed in: network listeners, the first replay, a periodic look for news while online. */
export function startSync(): void {
  if (pollTimer !== null) return
  online.value = navigator.onLine
  window.addEventListener('online', wentOnline)
  window.addEventListener('offline', wentOffline)
  pollTimer = setInterval(() => {
    if (navigator.onLine) void checkSos()
  }, NURSE_POLL_MS)
  void flush()
}

export async function stopSync(): Promise<void> {
  window.removeEventListener('online', wentOnline)
  window.removeEventListener('offline', wentOffline)
  if (pollTimer !== null) clearInterval(pollTimer)
  pollTimer = null
  orders.value = []
  await clearDay()
}
