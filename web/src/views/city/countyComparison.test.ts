import { describe, expect, it } from 'vitest'

import type { components } from '@/api/schema'

import { countyChartOption, countyRows } from './countyComparison'

type RegistryStats = components['schemas']['RegistryStats']
type Coverage = components['schemas']['Coverage']

const beds = { beds_elderly_care: 0, beds_hospice: 0, beds_integrated: 0, beds_medical: 0, beds_nursing: 0, beds_rehabilitation: 0 }
function statsGroup(code: string, name: string, institutions: number, integrated: number) {
  return {
    region_code: code,
    region_name: name,
    institutions,
    integrated_institutions: integrated,
    integrated_institution_beds: 0,
    by_kind: {},
    by_category: {},
    beds,
    beds_by_kind: {},
  }
}

const stats: RegistryStats = {
  group_by: 'county',
  scope_region_code: '350200',
  scope_region_name: '厦门市',
  kind_labels: {},
  category_labels: {},
  groups: [statsGroup('350211', '集美区', 30, 4), statsGroup('350203', '思明区', 50, 6), statsGroup('350206', '湖里区', 40, 5)],
  totals: { institutions: 120, integrated_institutions: 15, integrated_institution_beds: 0, by_kind: {}, by_category: {}, beds, beds_by_kind: {} },
}

function coverageGroup(code: string, name: string, institutions: number, covered: number) {
  return { region_code: code, region_name: name, institutions, covered, rate_pct: (covered * 100) / institutions, meets_target: covered === institutions }
}

const coverage: Coverage = {
  region_code: '350200',
  group_by: 'county',
  as_of: '2026-11-30',
  target_pct: 100,
  institutions: 14,
  covered: 11,
  covered_by_agreement: 10,
  covered_by_own_medical_unit: 1,
  rate_pct: 78.57,
  meets_target: false,
  signed_pairs: 10,
  expiring: { within_30_days: 0, within_60_days: 0, within_90_days: 1 },
  groups: [coverageGroup('350206', '湖里区', 4, 4), coverageGroup('350203', '思明区', 10, 7)],
  uncovered_total: 3,
  uncovered: [],
}

describe('countyRows', () => {
  it('joins both answers by county, in code order, a county missing from one answer counted as zero', () => {
    const rows = countyRows(stats, coverage, '350200')
    expect(rows.map((r) => r.region_code)).toEqual(['350203', '350206', '350211'])
    expect(rows[0]).toMatchObject({ institutions: 50, integrated_institutions: 6, homes: 10, covered: 7, uncovered: 3, meets_target: false })
    expect(rows[1]).toMatchObject({ homes: 4, covered: 4, uncovered: 0, meets_target: true })
    // 集美区 has institutions in the registry but no elderly-care home counted by coverage
    expect(rows[2]).toMatchObject({ institutions: 30, homes: 0, covered: 0, rate_pct: null, meets_target: null })
  })

  it('keeps only the counties of the chosen region', () => {
    expect(countyRows(stats, coverage, '350206').map((r) => r.region_name)).toEqual(['湖里区'])
  })
})

describe('countyChartOption', () => {
  it('draws one category per county and three bar series from the rows, with aria on', () => {
    const option = countyChartOption(countyRows(stats, coverage, '350200'))
    expect(option.aria).toMatchObject({ enabled: true })
    expect(option.xAxis).toMatchObject({ data: ['思明区', '湖里区', '集美区'] })
    const series = option.series as { name: string; data: number[] }[]
    expect(series.map((s) => s.name)).toEqual(['养老机构数', '已签约覆盖', '医养结合机构'])
    expect(series[1]?.data).toEqual([7, 4, 0])
  })
})

describe('countyRows without registry statistics', () => {
  it('shows coverage alone', () => {
    const rows = countyRows(null, coverage, '350200')
    expect(rows.map((r) => [r.region_code, r.institutions, r.homes])).toEqual([
      ['350203', 0, 10],
      ['350206', 0, 4],
    ])
  })
})
