import { describe, expect, it } from 'vitest'

import type { components } from '@/api/schema'

import { bandOf, chinaToday, chinaYear, checkupRows, percentText, rateSeries, ratio, scoresComplete, totalScore } from './residents'

type S = components['schemas']

// GB/T 42195-2022 as the service reads it (total 90): 90 / 66–89 / 46–65 / 30–45 / 0–29
const LEVELS: S['LevelBandRead'][] = [
  { level: 0, name: '能力完好', disability_name: '能力完好', min_total: 90, max_total: 90 },
  { level: 1, name: '能力轻度受损', disability_name: '轻度失能', min_total: 66, max_total: 89 },
  { level: 2, name: '能力中度受损', disability_name: '中度失能', min_total: 46, max_total: 65 },
  { level: 3, name: '能力重度受损', disability_name: '重度失能', min_total: 30, max_total: 45 },
  { level: 4, name: '能力完全丧失', disability_name: '完全失能', min_total: 0, max_total: 29 },
]

describe('residents figures', () => {
  it('shows a service percentage with two decimals, a missing one as a dash', () => {
    expect(percentText('96.51')).toBe('96.51%')
    expect(percentText('100')).toBe('100.00%')
    expect(percentText(null)).toBe('—')
    expect(percentText('x')).toBe('—')
  })

  it('computes a share with two decimals and none without a whole', () => {
    expect(ratio(38_833 - 8_558, 38_833)).toBe('77.96%')
    expect(ratio(1, 0)).toBe('—')
  })

  it('turns the check-up summary into rows with the standard share', () => {
    const summary: S['CheckupSummary'] = {
      year: 2025,
      persons_checked: 4,
      persons_standard: 3,
      rows: [{ region_code: '350206', region_name: '湖里区', persons_checked: 4, persons_standard: 3 }],
    }
    expect(checkupRows(summary)).toEqual([{ region: '湖里区', checked: 4, standard: 3, standardRate: '75.00%' }])
  })

  it('lays the signing figures out by county for the chart', () => {
    const row = (code: string, signed: number): S['RegionRates'] => ({
      region_code: code,
      signed_persons: signed,
      signed_persons_65_plus: signed,
      due_for_renewal: 10,
      renewed: 9,
      renewal_rate_pct: '90.00',
    })
    const rates: S['SigningRates'] = { year: 2025, as_of: '2025-12-31', items: [row('350206', 5), row('350203', 7)], total: row('3502', 12) }
    expect(rateSeries(rates, (code) => (code === '350206' ? '湖里区' : code))).toEqual({
      regions: ['湖里区', '350203'],
      signed: [5, 7],
      renewed: [9, 9],
      dueForRenewal: [10, 10],
    })
  })
})

describe('assessment preview', () => {
  it('adds the scores entered so far', () => {
    expect(totalScore({ a: 3, b: null, c: 4 })).toBe(7)
  })

  it('finds the band at and around each cut-off', () => {
    const level = (total: number): number | undefined => bandOf(total, LEVELS)?.level
    expect([90, 89, 66, 65, 46, 45, 30, 29, 0].map(level)).toEqual([0, 1, 1, 2, 2, 3, 3, 4, 4])
    expect(bandOf(91, LEVELS)).toBeNull()
  })

  it('needs every item scored within its maximum', () => {
    const items: S['ScaleItemRead'][] = [
      { code: 'eat', name: '进食', domain: 'self_care', domain_label: '自理能力', max_score: 4 },
      { code: 'wash', name: '修饰', domain: 'self_care', domain_label: '自理能力', max_score: 4 },
    ]
    expect(scoresComplete(items, { eat: 4, wash: 0 })).toBe(true)
    expect(scoresComplete(items, { eat: 4 })).toBe(false)
    expect(scoresComplete(items, { eat: 5, wash: 0 })).toBe(false)
  })
})

describe('China dates', () => {
  it('reads the year and the day in Asia/Shanghai', () => {
    const lateUtc = new Date(Date.UTC(2025, 11, 31, 17, 0))
    expect(chinaYear(lateUtc)).toBe(2026)
    expect(chinaToday(lateUtc)).toBe('2026-01-01')
  })
})
