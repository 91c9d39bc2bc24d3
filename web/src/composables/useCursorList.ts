// Cursor pagination for list screens (the API's opaque `cursor` / `next_cursor`; no page numbers or
// totals). `fetchPage(cursor, signal)` loads one page; the composable keeps the page's items, a stack of
// the cursors behind it for 上一页, and one state for PageState. An answer that arrives after a newer
// request started (filters changed quickly) is dropped.
import { computed, ref, shallowRef, type Ref } from 'vue'

export interface CursorPage<T> {
  items: T[]
  next_cursor?: string | null
}

export type FetchPage<T> = (cursor: string | null, signal: AbortSignal) => Promise<CursorPage<T>>

export type CursorListState = 'idle' | 'loading' | 'ready' | 'empty' | 'error'

export interface CursorList<T> {
  items: Ref<T[]>
  state: Ref<CursorListState>
  error: Ref<unknown>
  /** The cursor of the page shown (null for the first page). */
  cursor: Ref<string | null>
  hasNext: Ref<boolean>
  hasPrevious: Ref<boolean>
  loading: Ref<boolean>
  empty: Ref<boolean>
  /** The first page (again): after a filter change. */
  load(): Promise<void>
  /** Same page again (after a write, or 重试). */
  reload(): Promise<void>
  next(): Promise<void>
  previous(): Promise<void>
  /** Back to idle with nothing loaded (and any request in flight ignored). */
  reset(): void
}

export function useCursorList<T>(fetchPage: FetchPage<T>): CursorList<T> {
  const items = shallowRef<T[]>([]) as Ref<T[]>
  const state = ref<CursorListState>('idle')
  const error = shallowRef<unknown>(null)
  const cursor = ref<string | null>(null)
  const nextCursor = ref<string | null>(null)
  const behind = ref<(string | null)[]>([])
  let controller: AbortController | null = null

  async function show(pageCursor: string | null, stack: (string | null)[]): Promise<void> {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    state.value = 'loading'
    error.value = null
    try {
      const page = await fetchPage(pageCursor, mine.signal)
      if (controller !== mine) return
      items.value = page.items
      cursor.value = pageCursor
      nextCursor.value = page.next_cursor ?? null
      behind.value = stack
      state.value = page.items.length === 0 && stack.length === 0 ? 'empty' : 'ready'
    } catch (caught) {
      if (controller !== mine) return
      error.value = caught
      state.value = 'error'
    } finally {
      if (controller === mine) controller = null
    }
  }

  return {
    items,
    state,
    error,
    cursor,
    hasNext: computed(() => nextCursor.value !== null),
    hasPrevious: computed(() => behind.value.length > 0),
    loading: computed(() => state.value === 'loading'),
    empty: computed(() => state.value === 'empty'),
    load: () => show(null, []),
    reload: () => show(cursor.value, behind.value),
    async next() {
      if (nextCursor.value === null || state.value === 'loading') return
      await show(nextCursor.value, [...behind.value, cursor.value])
    },
    async previous() {
      if (behind.value.length === 0 || state.value === 'loading') return
      const stack = behind.value.slice(0, -1)
      await show(behind.value[behind.value.length - 1] ?? null, stack)
    },
    reset() {
      controller?.abort()
      controller = null
      items.value = []
      cursor.value = null
      nextCursor.value = null
      behind.value = []
      error.value = null
      state.value = 'idle'
    },
  }
}
