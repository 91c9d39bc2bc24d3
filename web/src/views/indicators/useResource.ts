// One resource a screen loads (a report, a series): its data and the state PageState shows. A newer
// load aborts the one in flight, and an answer that arrives after a newer load started is dropped.
import { shallowRef, type Ref } from 'vue'

import type { PageStateValue } from '@/components/PageState.vue'

export interface Resource<T> {
  data: Ref<T | null>
  state: Ref<PageStateValue>
  error: Ref<unknown>
  load(): Promise<void>
  reset(): void
}

export function useResource<T>(
  fetcher: (signal: AbortSignal) => Promise<T>,
  isEmpty: (data: T) => boolean = () => false,
): Resource<T> {
  const data = shallowRef<T | null>(null) as Ref<T | null>
  const state = shallowRef<PageStateValue>('idle')
  const error = shallowRef<unknown>(null)
  let controller: AbortController | null = null

  async function load(): Promise<void> {
    controller?.abort()
    const mine = new AbortController()
    controller = mine
    state.value = 'loading'
    error.value = null
    try {
      const answer = await fetcher(mine.signal)
      if (controller !== mine) return
      data.value = answer
      state.value = isEmpty(answer) ? 'empty' : 'ready'
    } catch (caught) {
      if (controller !== mine) return
      data.value = null
      error.value = caught
      state.value = 'error'
    } finally {
      if (controller === mine) controller = null
    }
  }

  function reset(): void {
    controller?.abort()
    controller = null
    data.value = null
    error.value = null
    state.value = 'idle'
  }

  return { data, state, error, load, reset }
}
