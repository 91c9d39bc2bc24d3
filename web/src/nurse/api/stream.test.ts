import { describe, expect, it } from 'vitest'

import { EventStream, SseParser, type EventStreamOptions, type SseFrame, type StreamState } from './stream'

const encoder = new TextEncoder()

describe('SseParser', () => {
  it('reads id, event and data of a frame and joins data lines', () => {
    const parser = new SseParser()
    const frames = parser.push('id: c1\nevent: cancelled\ndata: {"a":1}\ndata: second\n\n')
    expect(frames).toEqual([{ id: 'c1', event: 'cancelled', data: '{"a":1}\nsecond' }])
  })

  it('completes frames split anywhere across chunks, a UTF-8 character included', () => {
    const whole = encoder.encode('id: 7\nevent: rescheduled\ndata: {"note":"改期"}\n\nid: 8\nevent: completed\ndata: x\n\n')
    for (const cut of [1, 5, 13, 30, 34, 35, 36, whole.length - 1]) {
      const parser = new SseParser()
      const frames = [...parser.push(whole.slice(0, cut)), ...parser.push(whole.slice(cut))]
      expect(frames, `cut at ${cut}`).toEqual([
        { id: '7', event: 'rescheduled', data: '{"note":"改期"}' },
        { id: '8', event: 'completed', data: 'x' },
      ])
    }
  })

  it('counts comments (heartbeats) and dispatches nothing for them', () => {
    const parser = new SseParser()
    expect(parser.push(': heartbeat\n\n: heartbeat\n\n')).toEqual([])
    expect(parser.comments).toBe(2)
  })

  it('takes CRLF and CR line ends, a CR split from its LF across chunks', () => {
    const parser = new SseParser()
    const frames = [...parser.push('id: 1\r\ndata: a\r'), ...parser.push('\n\r\nid: 2\rdata: b\r\r')]
    expect(frames).toHaveLength(1) // the last CR may yet be followed by its LF
    frames.push(...parser.push('\n'))
    expect(frames).toEqual([
      { id: '1', event: 'message', data: 'a' },
      { id: '2', event: 'message', data: 'b' },
    ])
  })

  it('keeps retry, ignores unknown fields and frames without data, strips one space only', () => {
    const parser = new SseParser()
    const frames = parser.push('retry: 2000\nid: r\nevent: ready\nfoo: bar\ndata:  two spaces\n\nid: lonely\n\n')
    expect(parser.retryMs).toBe(2000)
    expect(frames).toEqual([{ id: 'r', event: 'ready', data: ' two spaces' }])
  })

  it('holds an unfinished frame until its empty line', () => {
    const parser = new SseParser()
    expect(parser.push('id: 3\nevent: completed\ndata: x\n')).toEqual([])
    expect(parser.push('\n')).toEqual([{ id: '3', event: 'completed', data: 'x' }])
  })
})

/** A server whose answers the test scripts: each connection gets the next script, whose body chunks are
 * written as the test pushes them (the stream stays open until the script says end). */
interface Connection {
  headers: Record<string, string>
  write: (text: string) => void
  end: () => void
  aborted: Promise<void>
}

function fakeServer(answers: (Response | 'stream')[]) {
  const connections: Connection[] = []
  const fetcher = (_url: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const answer = answers.shift() ?? 'stream'
    const headers = (init?.headers ?? {}) as Record<string, string>
    if (answer !== 'stream') {
      connections.push({ headers, write: () => undefined, end: () => undefined, aborted: Promise.resolve() })
      return Promise.resolve(answer)
    }
    let controller: ReadableStreamDefaultController<Uint8Array> | null = null
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        controller = c
      },
    })
    let closed = false
    const aborted = new Promise<void>((resolve) => {
      init?.signal?.addEventListener('abort', () => {
        if (!closed) controller?.error(new DOMException('aborted', 'AbortError'))
        closed = true
        resolve()
      })
    })
    const connection: Connection = {
      headers,
      write: (text) => {
        if (!closed) controller?.enqueue(encoder.encode(text))
      },
      end: () => {
        closed = true
        controller?.close()
      },
      aborted,
    }
    connections.push(connection)
    return Promise.resolve(new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream; charset=utf-8' } }))
  }
  const next = async (n: number): Promise<Connection> => {
    await until(() => connections.length > n)
    return connections[n] as Connection
  }
  return { fetcher, connections, next }
}

function until(check: () => boolean, ms = 4_000): Promise<void> {
  const deadline = Date.now() + ms
  return new Promise((resolve, reject) => {
    const look = (): void => {
      if (check()) resolve()
      else if (Date.now() > deadline) reject(new Error('condition not met'))
      else setTimeout(look, 2)
    }
    look()
  })
}

function makeStream(server: ReturnType<typeof fakeServer>, extra: Partial<EventStreamOptions> = {}) {
  const frames: SseFrame[] = []
  const states: StreamState[] = []
  let cursor: string | null = 'c0'
  let token: string | null = 't1'
  const delays: number[] = []
  const stream = new EventStream({
    url: '/api/v1/homecare/events',
    token: () => token,
    refreshToken: () => {
      token = 't2'
      return Promise.resolve(token)
    },
    lastId: () => Promise.resolve(cursor),
    onFrame: (frame) => {
      frames.push(frame)
      cursor = frame.id
      return Promise.resolve()
    },
    onState: (state) => states.push(state),
    // bounds wide enough for a loaded CI machine: the heartbeat test's 200 ms gaps stay far below idle
    readyTimeoutMs: 1_000,
    idleTimeoutMs: 1_200,
    retryDelayMs: (failures) => {
      delays.push(failures)
      return 5
    },
    fallbackAfter: 2,
    fetch: server.fetcher,
    ...extra,
  })
  return { stream, frames, states, delays, cursor: () => cursor, setToken: (t: string | null) => (token = t) }
}

const READY = (id: string): string => `retry: 10\nid: ${id}\nevent: ready\ndata: {"cursor":"${id}"}\n\n`

describe('EventStream', () => {
  it('sends the token and the last id, goes live at the ready frame and hands over each event in order', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    const first = await server.next(0)
    expect(first.headers.Authorization).toBe('Bearer t1')
    expect(first.headers['Last-Event-ID']).toBe('c0')
    expect(first.headers.Accept).toBe('text/event-stream')
    first.write(READY('c0'))
    await until(() => s.stream.state === 'live')
    first.write('id: c1\nevent: cancelled\ndata: {"n":1}\n\n: heartbeat\n\nid: c2\nevent: resched')
    first.write('uled\ndata: {"n":2}\n\n')
    await until(() => s.frames.length === 2)
    expect(s.frames.map((f) => [f.id, f.event])).toEqual([
      ['c1', 'cancelled'],
      ['c2', 'rescheduled'],
    ])
    await s.stream.stop()
    expect(s.states).toEqual(['connecting', 'live', 'stopped'])
  })

  it('reconnects from the last id when the server ends the stream, after the retry it asked for', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    const first = await server.next(0)
    first.write(READY('c0') + 'id: c5\nevent: completed\ndata: {}\n\n')
    await until(() => s.frames.length === 1)
    first.end()
    const second = await server.next(1)
    expect(second.headers['Last-Event-ID']).toBe('c5')
    expect(s.delays).toEqual([]) // a good stream ended: no failure counted
    second.write(READY('c5'))
    await until(() => s.stream.state === 'live')
    await s.stream.stop()
  })

  it('falls back to polling when no ready frame comes (a buffering proxy) and goes live again later', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    await server.next(0) // says nothing: times out
    await server.next(1) // nor this one
    await until(() => s.stream.state === 'polling')
    expect(s.stream.failures).toBeGreaterThanOrEqual(2)
    const third = await server.next(2)
    third.write(READY('c0'))
    await until(() => s.stream.state === 'live')
    expect(s.stream.failures).toBe(0)
    expect(s.delays.slice(0, 2)).toEqual([1, 2]) // backoff grows with the failures
    await s.stream.stop()
  })

  it('treats an answer that is not an event stream as a failure', async () => {
    const server = fakeServer([
      new Response('{"items":[]}', { status: 200, headers: { 'Content-Type': 'application/json' } }),
      new Response('busy', { status: 502 }),
    ])
    const s = makeStream(server)
    s.stream.start()
    await until(() => s.stream.state === 'polling')
    const third = await server.next(2)
    third.write(READY('c0'))
    await until(() => s.stream.state === 'live')
    await s.stream.stop()
  })

  it('drops a connection that goes quiet (no heartbeat) and opens a new one', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    const first = await server.next(0)
    first.write(READY('c0'))
    await until(() => s.stream.state === 'live')
    await first.aborted // idle timeout
    const second = await server.next(1)
    expect(second.headers['Last-Event-ID']).toBe('c0')
    await s.stream.stop()
  })

  it('keeps a connection with heartbeats open past the idle bound', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    const first = await server.next(0)
    first.write(READY('c0'))
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 200))
      first.write(': heartbeat\n\n')
    }
    expect(server.connections.length).toBe(1)
    expect(s.stream.state).toBe('live')
    await s.stream.stop()
  })

  it('refreshes the token after a 401 and stops when the session is gone', async () => {
    const server = fakeServer([new Response('', { status: 401 })])
    const s = makeStream(server)
    s.stream.start()
    const second = await server.next(1)
    expect(second.headers.Authorization).toBe('Bearer t2')
    expect(s.delays).toEqual([1]) // retried after the backoff: a server refusing every token is not hammered
    await s.stream.stop()

    const gone = fakeServer([new Response('', { status: 401 })])
    const g = makeStream(gone, { refreshToken: () => Promise.resolve(null) })
    g.stream.start()
    await until(() => g.stream.state === 'stopped' && gone.connections.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 30))
    expect(gone.connections.length).toBe(1)
  })

  it('stops at once (sign-out, offline): the open connection is aborted and none is opened again', async () => {
    const server = fakeServer([])
    const s = makeStream(server)
    s.stream.start()
    const first = await server.next(0)
    first.write(READY('c0'))
    await until(() => s.stream.state === 'live')
    await s.stream.stop()
    await first.aborted
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(server.connections.length).toBe(1)
    expect(s.stream.state).toBe('stopped')
    first.write('id: c9\nevent: cancelled\ndata: {}\n\n')
    expect(s.frames).toEqual([])
  })
})
