// The drill-down path of the dashboard: from the caller's own region (the province, a city) down through
// a city-level unit to a county. 平潭综合实验区 is a city-level unit directly under the province, as the
// health system administers it (regions/divisions.ts).
import { divisionName, getDivision, isWithin, PINGTAN_CODE } from '@/regions/divisions'

export interface TrailStep {
  code: string
  name: string
}

/** The region one level up in the drill-down (a county's city, a city's province); null at the top. */
export function parentRegion(code: string): string | null {
  const division = getDivision(code)
  if (division === undefined || division.level === 'province') return null
  if (division.level === 'city' || code === PINGTAN_CODE) return `${code.slice(0, 2)}0000`
  return division.parent_code
}

/** The regions from `own` (the caller's scope) down to `current`, both included; just `own` when
 * `current` is not inside it. */
export function regionTrail(own: string, current: string): TrailStep[] {
  if (!isWithin(own, current)) return [{ code: own, name: divisionName(own) }]
  const steps: TrailStep[] = []
  let code: string | null = current
  while (code !== null) {
    steps.unshift({ code, name: divisionName(code) })
    if (code === own) break
    code = parentRegion(code)
  }
  return steps
}

/** A region code from the address bar if the caller may look at it, else null. */
export function regionWithin(own: string | null, value: unknown): string | null {
  if (typeof value !== 'string' || !/^35\d{4}$/.test(value) || own === null) return null
  return isWithin(own, value) && getDivision(value) !== undefined ? value : null
}
