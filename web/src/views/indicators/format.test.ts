import { describe, expect, it } from 'vitest'

import {
  chinaToday,
  coverageText,
  formatGap,
  formatValue,
  isPeriod,
  periodGroups,
  periodLabel,
  targetNote,
  targetText,
  trendRange,
  worstState,
  type TargetStatus,
} from './format'

function target(overrides: Partial<TargetStatus>): TargetStatus {
  return {
    comparison: 'gte',
    value: 1,
    due_date: '2025-12-31',
    each_county: false,
    region_code: '350000',
    source: '002',
    status: 'met',
    short_by: null,
    counties_short: [],
    reason: null,
    ...overrides,
  }
}

describe('values by unit', () => {
  it('writes a rate (a fraction) in percent, per 10k with two decimals, a count with separators', () => {
    expect(formatValue('rate', 0.9891)).toBe('98.9%')
    expect(formatValue('rate', 1)).toBe('100.0%')
    expect(formatValue('per_10k', 0.6468)).toBe('0.65')
    expect(formatValue('number', 53000)).toBe('53,000')
    expect(formatValue('number', null)).toBe('—')
  })

  it('gives a rate’s gap in percentage points', () => {
    expect(formatGap('rate', 0.5986)).toBe('差 59.9 个百分点')
    expect(formatGap('per_10k', 0.353)).toBe('差 0.35')
    expect(formatGap('number', 2.2)).toBe('差 3')
    expect(formatGap('rate', null)).toBe('')
  })

  it('writes a target with the contract’s comparison label', () => {
    expect(targetText('rate', { comparison: 'gte', value: 0.85 })).toBe('≥ 85.0%')
    expect(targetText('number', { comparison: 'lte', value: 10 })).toBe('≤ 10')
  })
})

describe('target states', () => {
  it('notes by how much an overall target is short, or how many counties are', () => {
    expect(targetNote('rate', target({ status: 'short', short_by: 0.1 }))).toBe('差 10.0 个百分点')
    const counties = [{ region_code: '350205', region_name: '海沧区', value: 0, short_by: 1, reason: null }]
    expect(targetNote('rate', target({ status: 'short', each_county: true, counties_short: counties }))).toBe(
      '1 个县（区）未达标',
    )
    expect(targetNote('rate', target({ status: 'missing', reason: '居民服务尚未上线' }))).toBe('居民服务尚未上线')
    expect(targetNote('rate', target({ status: 'met' }))).toBe('')
  })

  it('shows short before missing before met', () => {
    expect(worstState([])).toBeNull()
    expect(worstState([{ status: 'met' }, { status: 'missing' }])).toBe('missing')
    expect(worstState([{ status: 'missing' }, { status: 'short' }])).toBe('short')
    expect(worstState([{ status: 'met' }])).toBe('met')
  })
})

describe('periods', () => {
  it('accepts a year or a quarter as the API does', () => {
    expect(isPeriod('2025')).toBe(true)
    expect(isPeriod('2025Q3')).toBe(true)
    expect(isPeriod('2025Q5')).toBe(false)
    expect(isPeriod('25')).toBe(false)
    expect(periodLabel('2025Q3')).toBe('2025年第三季度')
    expect(periodLabel('2025')).toBe('2025年')
  })

  it('takes the year and quarter in China time', () => {
    // 2026-12-31 17:00 UTC is already 2027-01-01 in Fujian
    expect(chinaToday(new Date('2026-12-31T17:00:00Z'))).toEqual({ year: 2027, quarter: 1 })
    expect(chinaToday(new Date('2026-11-30T06:00:00Z'))).toEqual({ year: 2026, quarter: 4 })
  })

  it('offers the years newest first and this year’s quarters so far', () => {
    const [years, quarters] = periodGroups(new Date('2026-05-10T00:00:00Z'))
    expect(years?.options[0]).toEqual({ value: '2026', label: '2026年（至今）' })
    expect(years?.options.at(-1)?.value).toBe('2021')
    expect(quarters?.options.map((o) => o.value)).toEqual(['2026Q2', '2026Q1', '2025Q4', '2025Q3', '2025Q2', '2025Q1'])
  })

  it('trends over five years or eight quarters', () => {
    expect(trendRange('2025')).toEqual({ from: '2021', to: '2025', by: 'year' })
    expect(trendRange('2025Q3')).toEqual({ from: '2023Q4', to: '2025Q3', by: 'quarter' })
    expect(trendRange('2025Q4')).toEqual({ from: '2024Q1', to: '2025Q4', by: 'quarter' })
  })
})

describe('coverageText', () => {
  const coverage = {
    records: '体检记录',
    reporting_counties: 1,
    counties: 83,
    aged_65_plus_reporting: 71_000,
    aged_65_plus: 4_600_000,
    aged_65_plus_share: 71_000 / 4_600_000,
  }
  it('gives the reporting counties and their share of the 65+ population', () => {
    expect(coverageText(coverage)).toBe('1/83 个县（区）上报，占65岁及以上人口 1.5%')
  })
  it('leaves the share out while the population is not loaded', () => {
    expect(coverageText({ ...coverage, aged_65_plus: null, aged_65_plus_reporting: null, aged_65_plus_share: null })).toBe(
      '1/83 个县（区）上报',
    )
  })
  it('is empty for a figure without a reporting rule', () => {
    expect(coverageText(null)).toBe('')
    expect(coverageText(undefined)).toBe('')
  })
})
