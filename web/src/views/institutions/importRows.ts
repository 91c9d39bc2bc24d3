// The rows of an import as the dialog shows them (行号, 结果, 说明): from the 200 answer's `results`, or —
// when `mode=all` refused the file — from the 422 `import_rejected` problem's `extra.results` (the bad
// rows, same shape; nothing was written).
import type { components } from '@/api/schema'

export type ImportRowResult = components['schemas']['ImportRowResult']
export type ImportOutcome = ImportRowResult['outcome']

export interface ImportRow {
  line: number
  outcome: ImportOutcome
  note: string
}

const OUTCOMES: readonly string[] = ['created', 'updated', 'unchanged', 'rejected']

function isRowResult(value: unknown): value is ImportRowResult {
  if (typeof value !== 'object' || value === null) return false
  const row = value as Record<string, unknown>
  return typeof row.line === 'number' && typeof row.outcome === 'string' && OUTCOMES.includes(row.outcome)
}

/** One line of explanation: the row's reason, its field errors, then its warnings. */
export function rowNote(row: Pick<ImportRowResult, 'detail' | 'errors' | 'warnings'>): string {
  const parts: string[] = []
  const messages = (row.errors ?? []).map((e) => e.message)
  if (row.detail && !messages.includes(row.detail)) parts.push(row.detail)
  parts.push(...messages)
  parts.push(...(row.warnings ?? []).map((w) => `提示：${w}`))
  return parts.join('；')
}

export function importRows(results: readonly ImportRowResult[]): ImportRow[] {
  return results.map((row) => ({ line: row.line, outcome: row.outcome, note: rowNote(row) }))
}

/** The bad rows a 422 `import_rejected` problem lists in `extra.results` (others are ignored). */
export function rejectedRows(extra: Record<string, unknown> | null | undefined): ImportRow[] {
  const results = extra?.results
  if (!Array.isArray(results)) return []
  return importRows(results.filter(isRowResult))
}
