// The nurse app's IndexedDB ("yy-nurse"): the outbox (queue.ts's storage), the order versions the
// outbox expects, and the day's orders as last loaded, so that the list and the forms work offline.
// Kept on the phone: what the nurse needs at the door (name, address, phone, notes) — never the ID
// number. Signing out clears the day (the outbox stays, it is the nurse's unsent work).
import { openDB, type DBSchema, type IDBPDatabase } from 'idb'

import type { QueuedAction, QueueStorage } from './queue'

export interface DayItem {
  code: string
  name: string
}

export interface SosState {
  key: string
  sentAt: string
  delivered: boolean
  acknowledged: boolean
  acknowledgedAt: string | null
}

/** One order of the nurse's day as the phone keeps it. */
export interface DayOrder {
  id: string
  status: string
  statusLabel: string
  version: number
  windowStart: string
  windowEnd: string
  recipientName: string
  address: string
  phone: string | null
  latitude: number | null
  longitude: number | null
  items: DayItem[]
  notes: string[]
  endReason: string | null
  sos: SosState | null
  /** the visit record the nurse saved on this phone (sent or queued) */
  recordId: string | null
  loadedAt: string
}

interface NurseDb extends DBSchema {
  queue: { key: number; value: QueuedAction }
  versions: { key: string; value: { orderId: string; version: number } }
  orders: { key: string; value: DayOrder }
  meta: { key: string; value: { key: string; value: string } }
}

export const DB_NAME = 'yy-nurse'
const DB_VERSION = 1

let opening: Promise<IDBPDatabase<NurseDb>> | null = null

export function database(): Promise<IDBPDatabase<NurseDb>> {
  opening ??= openDB<NurseDb>(DB_NAME, DB_VERSION, {
    upgrade(db) {
      db.createObjectStore('queue', { keyPath: 'seq', autoIncrement: true })
      db.createObjectStore('versions', { keyPath: 'orderId' })
      db.createObjectStore('orders', { keyPath: 'id' })
      db.createObjectStore('meta', { keyPath: 'key' })
    },
  })
  return opening
}

/** The outbox in IndexedDB: `seq` is the store's auto-increment key, so order survives a restart. */
export class IdbQueueStorage implements QueueStorage {
  async all(): Promise<QueuedAction[]> {
    return (await database()).getAll('queue')
  }

  async add(action: QueuedAction): Promise<number> {
    const fresh = { ...action }
    delete fresh.seq // the store's key generator numbers it
    return (await database()).add('queue', fresh)
  }

  async put(action: QueuedAction): Promise<void> {
    await (await database()).put('queue', action)
  }

  async remove(seq: number): Promise<void> {
    await (await database()).delete('queue', seq)
  }

  async version(orderId: string): Promise<number | null> {
    return (await (await database()).get('versions', orderId))?.version ?? null
  }

  async setVersion(orderId: string, version: number): Promise<void> {
    await (await database()).put('versions', { orderId, version })
  }
}

export async function cachedOrders(): Promise<DayOrder[]> {
  const orders = await (await database()).getAll('orders')
  return orders.sort((a, b) => a.windowStart.localeCompare(b.windowStart) || a.id.localeCompare(b.id))
}

export async function cachedOrder(id: string): Promise<DayOrder | undefined> {
  return (await database()).get('orders', id)
}

export async function saveOrder(order: DayOrder): Promise<void> {
  await (await database()).put('orders', order)
}

/** Replaces the day: orders no longer listed are dropped unless `keep` says otherwise (e.g. one still
 * with queued actions, or cancelled today: the nurse must see why it went). */
export async function saveDay(orders: DayOrder[], keep: (order: DayOrder) => boolean): Promise<void> {
  const db = await database()
  const tx = db.transaction('orders', 'readwrite')
  const listed = new Set(orders.map((o) => o.id))
  for (const old of await tx.store.getAll()) {
    if (!listed.has(old.id) && !keep(old)) await tx.store.delete(old.id)
  }
  for (const order of orders) await tx.store.put(order)
  await tx.done
}

export async function readMeta(key: string): Promise<string | null> {
  return (await (await database()).get('meta', key))?.value ?? null
}

export async function writeMeta(key: string, value: string): Promise<void> {
  await (await database()).put('meta', { key, value })
}

/** Another nurse signs in on this phone, or this one signs out: the day's personal data goes. */
export async function clearDay(): Promise<void> {
  const db = await database()
  await db.clear('orders')
  await db.clear('meta')
}
