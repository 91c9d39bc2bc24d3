// The county comparison of the coverage screen: the registry's institution counts by county
// (GET /registry/stats?group_by=county) beside the contracts' 签约覆盖 by county (GET
// /contracts/coverage?group_by=county), one row per county of the chosen region, and the bar chart
// drawn from those rows. Pure functions, tested beside this file.
import type { components } from '@/api/schema'
import { isWithin } from '@/regions/divisions'

import type { BarOption } from './echarts'

type RegistryStats = components['schemas']['RegistryStats']
type Coverage = components['schemas']['Coverage']

export interface CountyRow {
  region_code: string
  region_name: string
  /** All institutions in use (registry). */
  institutions: number
  /** 医养结合 institutions as the province counts them (registry). */
  integrated_institutions: number
  /** Elderly-care homes (incl. integrated) that coverage counts (contracts). */
  homes: number
  covered: number
  uncovered: number
  rate_pct: number | null
  meets_target: boolean | null
}

/** One row per county of `region` found in either answer, in code order (`stats` null: the caller may
 * not read the registry's statistics; coverage alone). */
export function countyRows(stats: RegistryStats | null, coverage: Coverage, region: string): CountyRow[] {
  const rows = new Map<string, CountyRow>()
  const row = (code: string, name: string): CountyRow => {
    let found = rows.get(code)
    if (found === undefined) {
      found = {
        region_code: code,
        region_name: name,
        institutions: 0,
        integrated_institutions: 0,
        homes: 0,
        covered: 0,
        uncovered: 0,
        rate_pct: null,
        meets_target: null,
      }
      rows.set(code, found)
    }
    return found
  }
  for (const group of stats?.groups ?? []) {
    if (!isWithin(region, group.region_code)) continue
    const target = row(group.region_code, group.region_name)
    target.institutions = group.institutions
    target.integrated_institutions = group.integrated_institutions
  }
  for (const group of coverage.groups) {
    if (!isWithin(region, group.region_code)) continue
    const target = row(group.region_code, group.region_name)
    target.homes = group.institutions
    target.covered = group.covered
    target.uncovered = group.institutions - group.covered
    target.rate_pct = group.rate_pct
    target.meets_target = group.meets_target
  }
  return [...rows.values()].sort((a, b) => a.region_code.localeCompare(b.region_code))
}

/** Grouped bars by county: homes, covered homes, 医养结合 institutions; accessible (aria) with the
 * series' names read out. */
export function countyChartOption(rows: CountyRow[]): BarOption {
  return {
    aria: { enabled: true, decal: { show: true } },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    legend: { top: 0 },
    grid: { left: 48, right: 16, top: 40, bottom: 64 },
    xAxis: {
      type: 'category',
      data: rows.map((r) => r.region_name),
      axisLabel: { interval: 0, rotate: rows.length > 8 ? 30 : 0 },
    },
    yAxis: { type: 'value', name: '机构数', minInterval: 1 },
    series: [
      { name: '养老机构数', type: 'bar', data: rows.map((r) => r.homes) },
      { name: '已签约覆盖', type: 'bar', data: rows.map((r) => r.covered) },
      { name: '医养结合机构', type: 'bar', data: rows.map((r) => r.integrated_institutions) },
    ],
  }
}
