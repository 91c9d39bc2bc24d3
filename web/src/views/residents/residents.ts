// Pure helpers of the residents screens: rates as the console shows them, the chart's series, the
// assessment form's total and level (a preview — the service computes the level it keeps).
import type { components } from '@/api/schema'

type S = components['schemas']

/** A percentage the service sends as a decimal string ("96.51"), or null: "96.51%" / "—". */
export function percentText(value: string | null | undefined): string {
  if (value === null || value === undefined || value === '') return '—'
  const n = Number(value)
  return Number.isFinite(n) ? `${n.toFixed(2)}%` : '—'
}

/** part / whole as a percentage with two decimals ("77.96%"), "—" when there is no whole. */
export function ratio(part: number, whole: number): string {
  if (whole <= 0) return '—'
  return `${((part * 100) / whole).toFixed(2)}%`
}

/** The 健康管理率 row: people checked, of them standard (规范), the standard share. */
export interface CheckupRow {
  region: string
  checked: number
  standard: number
  standardRate: string
}

export function checkupRows(summary: S['CheckupSummary']): CheckupRow[] {
  return summary.rows.map((row) => ({
    region: row.region_name ?? row.region_code,
    checked: row.persons_checked,
    standard: row.persons_standard,
    standardRate: ratio(row.persons_standard, row.persons_checked),
  }))
}

/** Bar chart data for the signing figures by county: signed residents and renewed contracts. */
export interface RateSeries {
  regions: string[]
  signed: number[]
  renewed: number[]
  dueForRenewal: number[]
}

export function rateSeries(rates: S['SigningRates'], name: (code: string) => string): RateSeries {
  return {
    regions: rates.items.map((row) => name(row.region_code)),
    signed: rates.items.map((row) => row.signed_persons),
    renewed: rates.items.map((row) => row.renewed),
    dueForRenewal: rates.items.map((row) => row.due_for_renewal),
  }
}

/** The sum of the item scores entered so far (unentered items count 0). */
export function totalScore(scores: Readonly<Record<string, number | null | undefined>>): number {
  return Object.values(scores).reduce<number>((sum, score) => sum + (typeof score === 'number' ? score : 0), 0)
}

/** The level band a total falls in, by the scale's cut-offs (before the service's adjustments for
 * dementia, mental disorder and care-risk events); null when no band holds it. */
export function bandOf(total: number, levels: readonly S['LevelBandRead'][]): S['LevelBandRead'] | null {
  return levels.find((band) => total >= band.min_total && total <= band.max_total) ?? null
}

/** Every item of the scale scored, each within 0…max. */
export function scoresComplete(
  items: readonly S['ScaleItemRead'][],
  scores: Readonly<Record<string, number | null | undefined>>,
): boolean {
  return items.every((item) => {
    const score = scores[item.code]
    return typeof score === 'number' && Number.isInteger(score) && score >= 0 && score <= item.max_score
  })
}

/** This year in China (the statistics' year; the console runs in Asia/Shanghai). */
export function chinaYear(now: Date = new Date()): number {
  return Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', year: 'numeric' }).format(now))
}

/** Today in China as YYYY-MM-DD. */
export function chinaToday(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai' }).format(now)
}
