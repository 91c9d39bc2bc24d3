// The nurse app's outbox: every action (a step of the visit, a photo or signature, the visit record, an
// SOS) is written here first — with its idempotency key and, for a step, the order version it expects —
// and replayed when the network is there, strictly in the order it was taken per order.
//
// - A network failure (no answer, 5xx, 429, an expired session) leaves the action where it is and stops
//   the replay; the next one starts on the `online` event or after a backoff (`NURSE_RETRY`).
// - An action the server answered was applied (or already applied before: same key, same client id) is
//   removed, and the version the order now has becomes the expected version of its next step.
// - A refusal (4xx) stays in the queue as `refused` with the server's reason, for the nurse to read and
//   dismiss; the order's later actions are still sent (each gets its own answer). An order cancelled in
//   the meantime is reported as such (`cancelled`).
// - 412 (the order changed since the version the step expects): `conflict`; that order's later actions
//   wait until the nurse has looked at the reloaded order and chosen to send them again or drop them.
// Storage and sending are injected (IndexedDB and the typed API client in the app, memory in the tests).
import type { components } from '@/api/schema'

import { NURSE_RETRY } from '../config'

type Schemas = components['schemas']
export type DepartBody = Schemas['DepartBody']
export type LocatedBody = Schemas['Located']
export type CheckInBody = Schemas['CheckInBody']
export type ClientEventBody = Schemas['ClientEvent']
export type VisitRecordBody = Schemas['VisitRecordWrite']
export type SosBody = Schemas['SosRaise']

export type StepKind = 'depart' | 'check-in' | 'start' | 'check-out' | 'complete'

/** What an action sends, by kind. */
export type ActionPayload =
  | { kind: 'depart'; body: DepartBody }
  | { kind: 'check-in'; body: CheckInBody }
  | { kind: 'check-out'; body: LocatedBody }
  | { kind: 'start' | 'complete'; body: ClientEventBody }
  | { kind: 'attachment'; sha256: string; contentType: string; data: ArrayBuffer; label: string }
  | { kind: 'record'; body: VisitRecordBody }
  | { kind: 'sos'; body: SosBody }

export type ActionKind = ActionPayload['kind']
export type ActionState = 'pending' | 'sending' | 'refused' | 'conflict'

export interface Refusal {
  status: number
  code: string
  /** the server's own words (problem+json `detail`) */
  detail: string
  /** the app's explanation for the nurse, in Chinese */
  reason: string
  cancelled: boolean
  /** the order's state the server reported (`extra.current`), when it did */
  currentStatus: string | null
  currentVersion: number | null
}

export type QueuedAction = ActionPayload & {
  /** global position, assigned by the storage (the order actions were taken in) */
  seq?: number
  /** Idempotency-Key of the request, and client_event_id of a step or an SOS */
  key: string
  orderId: string
  state: ActionState
  attempts: number
  createdAt: string
  refusal: Refusal | null
}

/** What the sender tells the queue about one attempt. */
export type SendOutcome =
  | { result: 'applied'; version: number | null; status: string | null }
  | { result: 'retry'; detail: string }
  | { result: 'refused'; refusal: Refusal }
  | { result: 'conflict'; refusal: Refusal }

export interface QueueStorage {
  all(): Promise<QueuedAction[]> // ordered by seq
  add(action: QueuedAction): Promise<number>
  put(action: QueuedAction): Promise<void>
  remove(seq: number): Promise<void>
  /** The order version the next step of this order must match (null: none known). */
  version(orderId: string): Promise<number | null>
  setVersion(orderId: string, version: number): Promise<void>
}

export type Sender = (action: QueuedAction, expectedVersion: number | null) => Promise<SendOutcome>

export interface QueueEvents {
  /** An action was applied on the server (the order's version and status after it, when it told them). */
  applied?(action: QueuedAction, outcome: Extract<SendOutcome, { result: 'applied' }>): void
  refused?(action: QueuedAction, refusal: Refusal): void
  changed?(): void
}

export const STEPS: readonly StepKind[] = ['depart', 'check-in', 'start', 'check-out', 'complete']

export function isStep(kind: ActionKind): kind is StepKind {
  return (STEPS as readonly string[]).includes(kind)
}

/** Backoff before the n-th retry (1-based) after a network failure. */
export function retryDelayMs(failures: number): number {
  const delay = NURSE_RETRY.firstDelayMs * 2 ** Math.max(0, failures - 1)
  return Math.min(delay, NURSE_RETRY.maxDelayMs)
}

export interface ReplayReport {
  applied: number
  refused: number
  conflicts: number
  /** stopped on a network failure: what is left waits for the next replay */
  interrupted: boolean
}

export class OfflineQueue {
  private running: Promise<ReplayReport> | null = null
  private again = false

  constructor(
    private readonly storage: QueueStorage,
    private readonly send: Sender,
    private readonly events: QueueEvents = {},
  ) {}

  /** Queue an action (state pending). `knownVersion` is the order's version as the app last saw it from
   * the server: the first step queued for an order (nothing of it waiting) expects it; later ones expect
   * what the steps before them leave. */
  async enqueue(payload: ActionPayload, orderId: string, knownVersion: number | null, key: string = crypto.randomUUID()): Promise<QueuedAction> {
    if (knownVersion !== null && (await this.idle(orderId))) {
      await this.storage.setVersion(orderId, knownVersion)
    }
    const action = {
      ...payload,
      key,
      orderId,
      state: 'pending',
      attempts: 0,
      createdAt: new Date().toISOString(),
      refusal: null,
    } as QueuedAction
    action.seq = await this.storage.add(action)
    this.events.changed?.()
    return action
  }

  list(): Promise<QueuedAction[]> {
    return this.storage.all()
  }

  /** Send what is pending, in order; one replay at a time (a call during a replay runs another after). */
  replay(): Promise<ReplayReport> {
    if (this.running) {
      this.again = true
      return this.running
    }
    this.running = this.replayAll().finally(() => {
      this.running = null
    })
    return this.running
  }

  private async replayAll(): Promise<ReplayReport> {
    let report: ReplayReport
    do {
      this.again = false
      report = await this.replayOnce()
    } while (this.again && !report.interrupted)
    return report
  }

  private async replayOnce(): Promise<ReplayReport> {
    const report: ReplayReport = { applied: 0, refused: 0, conflicts: 0, interrupted: false }
    const blocked = new Set<string>() // orders waiting for the nurse after a conflict
    for (const action of await this.storage.all()) {
      if (action.state === 'refused') continue
      if (action.state === 'conflict' || blocked.has(action.orderId)) {
        blocked.add(action.orderId)
        continue
      }
      action.state = 'sending' // left so by an interrupted replay: sent again with the same key
      action.attempts += 1
      await this.storage.put(action)
      this.events.changed?.()
      const expected = isStep(action.kind) ? await this.storage.version(action.orderId) : null
      let outcome: SendOutcome
      try {
        outcome = await this.send(action, expected)
      } catch (error) {
        outcome = { result: 'retry', detail: error instanceof Error ? error.message : String(error) }
      }
      if (outcome.result === 'retry') {
        action.state = 'pending'
        await this.storage.put(action)
        this.events.changed?.()
        report.interrupted = true
        return report
      }
      if (outcome.result === 'applied') {
        if (outcome.version !== null && action.kind !== 'record' && action.kind !== 'attachment' && action.kind !== 'sos') {
          await this.storage.setVersion(action.orderId, outcome.version)
        }
        await this.storage.remove(action.seq ?? -1)
        report.applied += 1
        this.events.applied?.(action, outcome)
      } else {
        action.state = outcome.result === 'conflict' ? 'conflict' : 'refused'
        action.refusal = outcome.refusal
        await this.storage.put(action)
        if (outcome.result === 'conflict') {
          blocked.add(action.orderId)
          report.conflicts += 1
        } else {
          report.refused += 1
        }
        this.events.refused?.(action, outcome.refusal)
      }
      this.events.changed?.()
    }
    return report
  }

  /** After a conflict: the nurse has seen the reloaded order and sends the order's actions again against
   * its current version. */
  async resend(orderId: string, currentVersion: number): Promise<void> {
    await this.storage.setVersion(orderId, currentVersion)
    for (const action of await this.storage.all()) {
      if (action.orderId === orderId && action.state === 'conflict') {
        action.state = 'pending'
        action.refusal = null
        await this.storage.put(action)
      }
    }
    this.events.changed?.()
  }

  /** Drops an action (a refusal read, or a conflicting action the nurse gives up). */
  async dismiss(seq: number): Promise<void> {
    await this.storage.remove(seq)
    this.events.changed?.()
  }

  /** Whether nothing of this order is queued. */
  async idle(orderId: string): Promise<boolean> {
    return !(await this.storage.all()).some((a) => a.orderId === orderId)
  }
}

/** A storage in memory: the tests' and a fallback where IndexedDB is unavailable (private mode). */
export class MemoryQueueStorage implements QueueStorage {
  private readonly actions = new Map<number, QueuedAction>()
  private readonly versions = new Map<string, number>()
  private next = 1

  async all(): Promise<QueuedAction[]> {
    return [...this.actions.values()].sort((a, b) => (a.seq ?? 0) - (b.seq ?? 0)).map((a) => structuredClone(a))
  }

  async add(action: QueuedAction): Promise<number> {
    const seq = this.next++
    this.actions.set(seq, structuredClone({ ...action, seq }))
    return seq
  }

  async put(action: QueuedAction): Promise<void> {
    if (action.seq !== undefined) this.actions.set(action.seq, structuredClone(action))
  }

  async remove(seq: number): Promise<void> {
    this.actions.delete(seq)
  }

  async version(orderId: string): Promise<number | null> {
    return this.versions.get(orderId) ?? null
  }

  async setVersion(orderId: string, version: number): Promise<void> {
    this.versions.set(orderId, version)
  }
}
