import { describe, expect, it, vi } from 'vitest'

import { useCursorList, type CursorPage } from './useCursorList'

/** Pages of a server list: cursor null → page 1 ('c2' next), 'c2' → page 2 ('c3'), 'c3' → last. */
const pages: Record<string, CursorPage<number>> = {
  first: { items: [1, 2], next_cursor: 'c2' },
  c2: { items: [3, 4], next_cursor: 'c3' },
  c3: { items: [5], next_cursor: null },
}

function server() {
  return vi.fn(async (cursor: string | null) => {
    const page = pages[cursor ?? 'first']
    if (!page) throw new Error(`unknown cursor ${cursor}`)
    return page
  })
}

describe('useCursorList', () => {
  it('walks forward and back with the cursors the server gave', async () => {
    const fetchPage = server()
    const list = useCursorList(fetchPage)
    expect(list.state.value).toBe('idle')
    await list.load()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasPrevious.value).toBe(false)
    expect(list.hasNext.value).toBe(true)
    await list.next()
    await list.next()
    expect(list.items.value).toEqual([5])
    expect(list.hasNext.value).toBe(false)
    await list.next() // nothing after the last page
    expect(fetchPage).toHaveBeenCalledTimes(3)
    await list.previous()
    expect(list.items.value).toEqual([3, 4])
    expect(fetchPage).toHaveBeenLastCalledWith('c2', expect.any(AbortSignal))
    await list.previous()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasPrevious.value).toBe(false)
    expect(list.state.value).toBe('ready')
  })

  it('reloads the page shown and restarts from the first page on load', async () => {
    const fetchPage = server()
    const list = useCursorList(fetchPage)
    await list.load()
    await list.next()
    await list.reload()
    expect(fetchPage).toHaveBeenLastCalledWith('c2', expect.any(AbortSignal))
    expect(list.hasPrevious.value).toBe(true)
    await list.load()
    expect(list.items.value).toEqual([1, 2])
    expect(list.hasPrevious.value).toBe(false)
  })

  it('is empty when the first page has no items', async () => {
    const list = useCursorList(async () => ({ items: [], next_cursor: null }))
    await list.load()
    expect(list.state.value).toBe('empty')
    expect(list.empty.value).toBe(true)
  })

  it('keeps the error for PageState and recovers on retry', async () => {
    let fail = true
    const list = useCursorList(async () => {
      if (fail) throw new Error('网络错误')
      return { items: ['a'], next_cursor: null }
    })
    await list.load()
    expect(list.state.value).toBe('error')
    expect(list.error.value).toBeInstanceOf(Error)
    fail = false
    await list.reload()
    expect(list.state.value).toBe('ready')
    expect(list.error.value).toBeNull()
  })

  it('drops an answer that arrives after a newer request, and aborts the older one', async () => {
    const signals: AbortSignal[] = []
    const resolvers: ((page: CursorPage<string>) => void)[] = []
    const list = useCursorList<string>((_cursor, signal) => {
      signals.push(signal)
      return new Promise((resolve) => resolvers.push(resolve))
    })
    const older = list.load()
    const newer = list.load()
    expect(signals[0]?.aborted).toBe(true)
    resolvers[1]?.({ items: ['new'], next_cursor: null })
    await newer
    resolvers[0]?.({ items: ['old'], next_cursor: null })
    await older
    expect(list.items.value).toEqual(['new'])
  })

  it('reset forgets everything', async () => {
    const list = useCursorList(server())
    await list.load()
    await list.next()
    list.reset()
    expect(list.state.value).toBe('idle')
    expect(list.items.value).toEqual([])
    expect(list.hasNext.value).toBe(false)
    expect(list.hasPrevious.value).toBe(false)
  })
})
