// Fujian's divisions (GB/T 2260, the project's copy generated into divisions.json by gen:api) and the
// region tree the console offers officials: the province's ten city-level units (nine cities and
// 平潭综合实验区, which the health system administers as a city although GB/T 2260 puts it under 福州),
// and each unit's counties. Mirrors libs/common/divisions.py.
import rows from './divisions.json'

export type DivisionLevel = 'province' | 'city' | 'county'

export interface Division {
  code: string
  name: string
  level: DivisionLevel
  parent_code: string | null
}

export const PINGTAN_CODE = '350128'
const PINGTAN_NAME = '平潭综合实验区'

const divisions: Division[] = rows.map((row) => ({ ...row, level: row.level as DivisionLevel }))
const byCode = new Map(divisions.map((division) => [division.code, division]))

export function getDivision(code: string): Division | undefined {
  return byCode.get(code)
}

/** The name officials use: 平潭 as 平潭综合实验区. */
export function divisionName(code: string): string {
  if (code === PINGTAN_CODE) return PINGTAN_NAME
  return byCode.get(code)?.name ?? code
}

function isCityUnit(division: Division): boolean {
  return division.level === 'city' || division.code === PINGTAN_CODE
}

/** The regions one level below: province → the ten city-level units; a city → its counties (福州
 * without 平潭); a county or 平潭 → none. */
export function childrenOf(code: string): Division[] {
  const division = byCode.get(code)
  if (division === undefined) return []
  if (division.level === 'province') return divisions.filter(isCityUnit)
  if (division.level === 'city') {
    return divisions.filter((d) => d.level === 'county' && d.parent_code === code && d.code !== PINGTAN_CODE)
  }
  return []
}

export interface RegionGroup {
  /** The unit itself (the whole city, or the whole province). */
  code: string
  name: string
  regions: { code: string; name: string }[]
}

/** What a principal whose scope is `code` may narrow to, grouped for a select: for the province, one
 * group for 全省 and one per city-level unit with its counties; for a city, one group with its counties.
 * Empty for a county (nothing below it). */
export function regionGroups(code: string): RegionGroup[] {
  const children = childrenOf(code)
  if (children.length === 0) return []
  const own = { code, name: divisionName(code), regions: [] }
  const division = byCode.get(code)
  if (division?.level === 'province') {
    return [
      own,
      ...children.map((city) => ({
        code: city.code,
        name: divisionName(city.code),
        regions: [
          { code: city.code, name: `${divisionName(city.code)}（全部）` },
          ...childrenOf(city.code).map((county) => ({ code: county.code, name: county.name })),
        ],
      })),
    ]
  }
  return [{ ...own, regions: children.map((county) => ({ code: county.code, name: county.name })) }]
}

/** True when `inner` lies in the scope of `outer` (平潭 is not inside 福州's scope). */
export function isWithin(outer: string, inner: string): boolean {
  if (outer === inner) return true
  const division = byCode.get(outer)
  if (division === undefined) return false
  if (division.level === 'province') return inner.startsWith(outer.slice(0, 2))
  if (division.level === 'city') return inner.startsWith(outer.slice(0, 4)) && inner !== PINGTAN_CODE
  return false
}
