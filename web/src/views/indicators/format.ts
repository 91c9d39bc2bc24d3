// How the dashboard writes the indicators' figures: values by unit (a rate is a fraction, 0.85 → 85.0%;
// per 10,000 residents with two decimals; counts with thousands separators), targets with their
// comparison, the gap to a target, and the statistical periods (a year 2025 or a quarter 2025Q3).
import type { components } from '@/api/schema'
import { enumLabel } from '@/api/labels'

export type Report = components['schemas']['Report']
export type RegionFigures = components['schemas']['RegionFigures']
export type Figure = components['schemas']['Figure']
export type TargetStatus = components['schemas']['TargetStatus']
export type TargetState = TargetStatus['status']
export type ReportingCoverage = components['schemas']['ReportingCoverage']

const count = new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 0 })

/** A figure's value as officials read it; `—` when there is none. */
export function formatValue(unit: string, value: number | null | undefined): string {
  if (value === null || value === undefined) return '—'
  if (unit === 'rate') return `${(value * 100).toFixed(1)}%`
  if (unit === 'per_10k') return value.toFixed(2)
  return count.format(value)
}

/** How far a figure falls short of its target: percentage points for a rate. */
export function formatGap(unit: string, shortBy: number | null | undefined): string {
  if (shortBy === null || shortBy === undefined) return ''
  if (unit === 'rate') return `差 ${(shortBy * 100).toFixed(1)} 个百分点`
  if (unit === 'per_10k') return `差 ${shortBy.toFixed(2)}`
  return `差 ${count.format(Math.ceil(shortBy))}`
}

/** `≥ 85.0%` — the target's comparison and value. */
export function targetText(unit: string, target: Pick<TargetStatus, 'comparison' | 'value'>): string {
  return `${enumLabel('Comparison', target.comparison)} ${formatValue(unit, target.value)}`
}

/** What a target's state needs besides its label (达标 / 未达标 / 无法评价): by how much it falls short,
 * or how many counties do for a county-by-county target; why it cannot be evaluated. Empty when met. */
export function targetNote(unit: string, target: TargetStatus): string {
  const counties = target.each_county ? (target.counties_short ?? []).length : 0
  if (target.status === 'short') return counties > 0 ? `${counties} 个县（区）未达标` : formatGap(unit, target.short_by)
  if (target.status === 'missing') return target.reason ?? (counties > 0 ? `${counties} 个县（区）无数据` : '')
  return ''
}

/** The tag colour of a target state. */
export function stateTagType(state: TargetState): 'success' | 'danger' | 'info' {
  if (state === 'met') return 'success'
  if (state === 'short') return 'danger'
  return 'info'
}

/** The state a figure shows when it has several targets: short before missing before met. */
export function worstState(targets: readonly Pick<TargetStatus, 'status'>[]): TargetState | null {
  if (targets.length === 0) return null
  for (const state of ['short', 'missing'] as const) {
    if (targets.some((t) => t.status === state)) return state
  }
  return 'met'
}

/** A residents figure's reporting coverage: `1/83 个县（区）上报，占65岁及以上人口 4.1%` (the share when
 * the population is loaded); empty for a figure without one. */
export function coverageText(coverage: ReportingCoverage | null | undefined): string {
  if (!coverage) return ''
  const counties = `${coverage.reporting_counties}/${coverage.counties} 个县（区）上报`
  const share = coverage.aged_65_plus_share
  return share === null || share === undefined ? counties : `${counties}，占65岁及以上人口 ${(share * 100).toFixed(1)}%`
}

// ---- periods ---------------------------------------------------------------------------------------

const PERIOD = /^(\d{4})(?:Q([1-4]))?$/
const QUARTER_NAMES = ['', '第一季度', '第二季度', '第三季度', '第四季度']
/** The first year the platform's demo and the indicators' baselines cover. */
export const FIRST_YEAR = 2021

export function isPeriod(value: string): boolean {
  return PERIOD.test(value)
}

/** Today's year and quarter in China time (the periods are China's calendar). */
export function chinaToday(now: Date = new Date()): { year: number; quarter: number } {
  const china = new Date(now.getTime() + 8 * 3600 * 1000)
  return { year: china.getUTCFullYear(), quarter: Math.floor(china.getUTCMonth() / 3) + 1 }
}

export function periodLabel(period: string): string {
  const match = PERIOD.exec(period)
  if (!match) return period
  return match[2] ? `${match[1]}年${QUARTER_NAMES[Number(match[2])]}` : `${match[1]}年`
}

export interface PeriodGroup {
  label: string
  options: { value: string; label: string }[]
}

/** The periods offered: every year from FIRST_YEAR to this one (newest first; this one 至今), and the
 * quarters of this year so far and of last year. */
export function periodGroups(now: Date = new Date()): PeriodGroup[] {
  const { year, quarter } = chinaToday(now)
  const years = []
  for (let y = year; y >= FIRST_YEAR; y -= 1) {
    years.push({ value: String(y), label: y === year ? `${y}年（至今）` : `${y}年` })
  }
  const quarters = []
  for (let q = quarter; q >= 1; q -= 1) {
    quarters.push({ value: `${year}Q${q}`, label: `${periodLabel(`${year}Q${q}`)}${q === quarter ? '（至今）' : ''}` })
  }
  for (let q = 4; q >= 1; q -= 1) quarters.push({ value: `${year - 1}Q${q}`, label: periodLabel(`${year - 1}Q${q}`) })
  return [
    { label: '年度', options: years },
    { label: '季度', options: quarters },
  ]
}

/** The trend shown beside a period: the five years up to a year, or the eight quarters up to a quarter. */
export function trendRange(period: string): { from: string; to: string; by: 'year' | 'quarter' } {
  const match = PERIOD.exec(period)
  if (!match) return { from: period, to: period, by: 'year' }
  const year = Number(match[1])
  if (!match[2]) return { from: String(year - 4), to: period, by: 'year' }
  const quarter = Number(match[2])
  // eight quarters ending with this one: the same quarter's successor, two years back
  const start = quarter === 4 ? `${year - 1}Q1` : `${year - 2}Q${quarter + 1}`
  return { from: start, to: period, by: 'quarter' }
}
