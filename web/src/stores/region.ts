// The region the console is narrowed to. Province and city officials may move into a region below
// theirs; list screens pass `region.filter` as their `region_code` query parameter (undefined = the
// caller's whole scope, which the server applies anyway).
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'

import { divisionName, isWithin, regionGroups } from '@/regions/divisions'

import { useAuthStore } from './auth'

export const useRegionStore = defineStore('region', () => {
  const auth = useAuthStore()
  const chosen = ref<string | null>(null)

  const own = computed(() => auth.me?.region_code ?? null)
  const groups = computed(() => (own.value && auth.isOfficial ? regionGroups(own.value) : []))
  const canSwitch = computed(() => groups.value.length > 0)
  const current = computed(() => {
    const code = chosen.value
    return code !== null && own.value !== null && isWithin(own.value, code) ? code : own.value
  })
  const currentName = computed(() => (current.value ? divisionName(current.value) : ''))
  const filter = computed(() => (current.value !== own.value ? (current.value ?? undefined) : undefined))

  function choose(code: string | null): void {
    chosen.value = code
  }

  return { own, groups, canSwitch, current, currentName, filter, choose }
})
