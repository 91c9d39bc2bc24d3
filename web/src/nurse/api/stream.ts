// Server-sent events read with fetch() and a ReadableStream (EventSource cannot send the Authorization
// header). `SseParser` turns the bytes into frames as the WHATWG event-stream format defines them
// (lines ended by CRLF, LF or CR; `:` comments; id/event/data/retry fields; a frame ends at an empty
// line); `EventStream` keeps one stream open — `Last-Event-ID` from the caller's cursor, a `ready`
// frame expected within a bound (a proxy that buffers never delivers it), the connection dropped when
// not even a heartbeat comes, reconnection with backoff — and says whether it is live, so that the
// caller polls only when it is not.

export interface SseFrame {
  /** The frame's `id` field, null when it had none. */
  id: string | null
  /** The `event` field, `message` when absent. */
  event: string
  /** The `data` lines joined by newlines. */
  data: string
}

export class SseParser {
  private readonly decoder = new TextDecoder()
  private pending = ''
  private data: string[] = []
  private event = ''
  private id: string | null = null
  /** The reconnection delay the server asked for (`retry:`), null until it does. */
  retryMs: number | null = null
  /** Comment lines seen (the server's heartbeats). */
  comments = 0

  /** The frames completed by this chunk of the body (text split anywhere, UTF-8 included). */
  push(chunk: Uint8Array | string): SseFrame[] {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true })
    const frames: SseFrame[] = []
    let start = 0
    for (let i = 0; i < this.pending.length; i++) {
      const ch = this.pending[i]
      if (ch !== '\n' && ch !== '\r') continue
      if (ch === '\r' && i + 1 === this.pending.length) break // a CR at the end: wait for a possible LF
      const frame = this.line(this.pending.slice(start, i))
      if (frame) frames.push(frame)
      if (ch === '\r' && this.pending[i + 1] === '\n') i++
      start = i + 1
    }
    this.pending = this.pending.slice(start)
    return frames
  }

  private line(line: string): SseFrame | null {
    if (line === '') return this.dispatch()
    if (line.startsWith(':')) {
      this.comments++
      return null
    }
    const colon = line.indexOf(':')
    const field = colon < 0 ? line : line.slice(0, colon)
    let value = colon < 0 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'data':
        this.data.push(value)
        break
      case 'event':
        this.event = value
        break
      case 'id':
        if (!value.includes('\0')) this.id = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value)
        break
      // other fields are ignored, as the format says
    }
    return null
  }

  private dispatch(): SseFrame | null {
    const frame = this.data.length > 0 ? { id: this.id, event: this.event || 'message', data: this.data.join('\n') } : null
    this.data = []
    this.event = ''
    this.id = null
    return frame
  }
}

/** `connecting`: opening or reopening; `live`: the ready frame came and the stream is open; `polling`:
 * the stream failed `fallbackAfter` times in a row (the caller reads the feed meanwhile, attempts go on
 * with backoff); `stopped`. */
export type StreamState = 'connecting' | 'live' | 'polling' | 'stopped'

export interface EventStreamOptions {
  url: string
  /** The bearer token now (null: none, the attempt fails). */
  token: () => string | null
  /** A fresh token after a 401 (null: signed out, the stream stops). */
  refreshToken: () => Promise<string | null>
  /** Where to resume (sent as Last-Event-ID), read at each connection. */
  lastId: () => Promise<string | null>
  /** Each frame other than `ready`, in order; the next is read once this settles. */
  onFrame: (frame: SseFrame) => Promise<void>
  /** The ready frame (its id is where the stream starts). */
  onReady?: (id: string | null) => Promise<void> | void
  onState?: (state: StreamState) => void
  /** No ready frame within this: the attempt failed (a buffering proxy). */
  readyTimeoutMs: number
  /** No bytes at all (not even a heartbeat) within this: the connection is dropped and reopened. */
  idleTimeoutMs: number
  /** Delay before the n-th consecutive failed attempt is retried. */
  retryDelayMs: (failures: number) => number
  /** Consecutive failures after which the state is `polling`. */
  fallbackAfter: number
  fetch?: typeof fetch
}

type Outcome = 'ended' | 'failed' | 'unauthorized'

export class EventStream {
  state: StreamState = 'stopped'
  /** Consecutive failed attempts. */
  failures = 0
  private controller: AbortController | null = null
  private wake: (() => void) | null = null
  private running: Promise<void> | null = null
  private stopped = true

  constructor(private readonly options: EventStreamOptions) {}

  /** Opens the stream (and keeps it open until stop()); a no-op while running, after the end of a
   * stop() still under way. */
  start(): void {
    if (this.running !== null) {
      if (this.stopped) void this.running.then(() => this.start())
      return
    }
    this.stopped = false
    this.failures = 0
    this.running = this.run().finally(() => {
      this.running = null
    })
  }

  /** Closes the stream now (sign-out, offline); resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.stopped = true
    this.controller?.abort()
    this.wake?.()
    await this.running
    this.setState('stopped')
  }

  private setState(state: StreamState): void {
    if (this.state === state) return
    this.state = state
    this.options.onState?.(state)
  }

  private async run(): Promise<void> {
    let retryAfter: number | null = null
    while (!this.stopped) {
      if (this.state !== 'polling') this.setState('connecting')
      const parser = new SseParser()
      let outcome: Outcome
      try {
        outcome = await this.attempt(parser)
      } catch {
        outcome = 'failed'
      }
      if (this.stopped) break
      retryAfter = parser.retryMs ?? retryAfter
      // a 401: a fresh token, then a retry counted as a failure (a token refused again waits longer)
      if (outcome === 'unauthorized' && (await this.options.refreshToken()) === null) break
      if (this.stopped) break
      let delay: number
      if (outcome === 'ended') {
        delay = retryAfter ?? this.options.retryDelayMs(1) // the server closed a good stream: come back
      } else {
        this.failures++
        if (this.failures >= this.options.fallbackAfter) this.setState('polling')
        delay = this.options.retryDelayMs(this.failures)
      }
      await this.sleep(delay)
    }
    this.stopped = true
    this.setState('stopped')
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms)
      function done(): void {
        clearTimeout(timer)
        resolve()
      }
      this.wake = done
    }).finally(() => {
      this.wake = null
    })
  }

  /** One connection: 'ended' when the server closed a stream that had started, 'failed' otherwise. */
  private async attempt(parser: SseParser): Promise<Outcome> {
    const controller = new AbortController()
    this.controller = controller
    let ready = false
    let timer: ReturnType<typeof setTimeout> | null = null
    const arm = (ms: number): void => {
      if (timer !== null) clearTimeout(timer)
      timer = setTimeout(() => controller.abort(), ms)
    }
    try {
      const headers: Record<string, string> = { Accept: 'text/event-stream' }
      const token = this.options.token()
      if (token !== null) headers.Authorization = `Bearer ${token}`
      const lastId = await this.options.lastId()
      if (lastId) headers['Last-Event-ID'] = lastId
      if (this.stopped) return 'failed'
      arm(this.options.readyTimeoutMs)
      const response = await (this.options.fetch ?? fetch)(this.options.url, { headers, signal: controller.signal, cache: 'no-store', credentials: 'same-origin' })
      if (response.status === 401) return 'unauthorized'
      const type = response.headers.get('Content-Type') ?? ''
      if (!response.ok || !type.startsWith('text/event-stream') || response.body === null) return 'failed'
      const reader = response.body.getReader()
      for (;;) {
        const { done, value } = await reader.read()
        if (done) break
        if (ready) arm(this.options.idleTimeoutMs)
        for (const frame of parser.push(value)) {
          if (this.stopped) return 'failed'
          if (frame.event === 'ready') {
            ready = true
            arm(this.options.idleTimeoutMs)
            this.failures = 0
            this.setState('live')
            await this.options.onReady?.(frame.id)
          } else if (ready) {
            await this.options.onFrame(frame)
          }
        }
      }
      return ready ? 'ended' : 'failed'
    } catch {
      return 'failed' // aborted (timeout, stop) or the connection broke
    } finally {
      if (timer !== null) clearTimeout(timer)
      controller.abort()
      if (this.controller === controller) this.controller = null
    }
  }
}
