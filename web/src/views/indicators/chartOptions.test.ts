import { describe, expect, it } from 'vitest'

import { breakdownOption, commonTarget, plotted, trendOption, type Series } from './chartOptions'
import type { Figure, RegionFigures, TargetStatus } from './format'

function figure(value: number | null, targets: TargetStatus[] = []): Figure {
  return {
    indicator: 'agreement_coverage',
    name: '养老机构签约覆盖率',
    unit: 'rate',
    status: value === null ? 'missing' : 'computed',
    value,
    numerator: null,
    numerator_label: '已签约的养老机构',
    denominator: null,
    denominator_label: '养老机构',
    missing_reason: null,
    median_response_minutes: null,
    baseline: null,
    targets,
  }
}

const eachCounty: TargetStatus = {
  comparison: 'gte',
  value: 1,
  due_date: '2025-12-31',
  each_county: true,
  region_code: '350000',
  source: '002',
  status: 'met',
  short_by: null,
  counties_short: [],
  reason: null,
}

function region(code: string, name: string, f: Figure): RegionFigures {
  return { region_code: code, region_name: name, level: 'city', figures: [f] }
}

describe('breakdown chart', () => {
  const rows = [
    region('350200', '厦门市', figure(0.9861, [eachCounty])),
    region('350128', '平潭县', figure(null, [eachCounty])),
  ]

  it('draws a rate in percent, a missing figure as a gap, names 平潭 as officials do', () => {
    const option = breakdownOption(rows, 'agreement_coverage')
    const [bars] = option.series as { type: string; data: (number | null)[] }[]
    expect(bars?.type).toBe('bar')
    expect(bars?.data).toEqual([98.6, null])
    expect((option.xAxis as { data: string[] }).data).toEqual(['厦门市', '平潭综合实验区'])
    expect(option.yAxis).toEqual({ type: 'value', axisLabel: { formatter: '{value}%' } })
  })

  it('draws the target as a line when it applies to every region shown', () => {
    expect(commonTarget(rows, 'agreement_coverage')).toBe(1)
    const option = breakdownOption(rows, 'agreement_coverage')
    const series = option.series as { type: string; name: string; data: (number | null)[] }[]
    expect(series[1]).toMatchObject({ type: 'line', name: '目标值', data: [100, 100] })
    const untargeted = [region('350200', '厦门市', figure(0.5))]
    expect(commonTarget(untargeted, 'agreement_coverage')).toBeNull()
    expect(breakdownOption(untargeted, 'agreement_coverage').series).toHaveLength(1)
  })
})

describe('trend chart', () => {
  it('draws one point per period', () => {
    const series: Series = {
      indicator: 'signed_pairs',
      name: '医养签约合作对数',
      unit: 'number',
      region_code: '350200',
      region_name: '厦门市',
      by: 'year',
      points: [
        { period: '2024', reference_date: '2024-12-31', numerator: 217, denominator: null, value: 217, status: 'computed', missing_reason: null },
        { period: '2025', reference_date: '2025-12-31', numerator: 275, denominator: null, value: 275, status: 'computed', missing_reason: null },
      ],
    }
    const option = trendOption(series)
    expect((option.xAxis as { data: string[] }).data).toEqual(['2024年', '2025年'])
    expect((option.series as { data: number[] }[])[0]?.data).toEqual([217, 275])
    expect(plotted('per_10k', 0.6468)).toBe(0.65)
    expect(option.yAxis).toEqual({ type: 'value' }) // default labels, not hidden
  })
})
