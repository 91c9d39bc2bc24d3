// What the home-bed screens decide outside their templates. The homecare service's rules (README,
// rules.md 家庭病床): the provider institution's users apply and withdraw an application; a doctor of the
// provider assesses (合格 / 不符合), opens the bed with a care plan and the signed consent, records rounds,
// reassesses when the period is over, and closes it. Officials read. The server decides; the console
// only hides what it would refuse.
import type { components } from '@/api/schema'

export type HomeBed = components['schemas']['HomeBedRead']
export type HomeBedStatus = components['schemas']['HomeBedStatus']
export type HomeBedAction = 'assess' | 'open' | 'rounds' | 'reassess' | 'close' | 'withdraw'

export const ACTION_LABELS: Record<HomeBedAction, string> = {
  assess: '建床评估',
  open: '建床',
  rounds: '记录查床',
  reassess: '再评估',
  close: '撤床',
  withdraw: '撤回申请',
}

const DOCTOR_ACTIONS: readonly HomeBedAction[] = ['assess', 'open', 'rounds', 'reassess', 'close']

export interface HomeBedCaller {
  institutionId: string | null | undefined
  practitionerId: string | null | undefined
  canWrite: boolean
}

/** The server's `allowed_actions` this caller may take: none unless the caller belongs to the provider
 * and may write; the doctor's steps only for a practitioner account. */
export function actionsFor(bed: HomeBed, caller: HomeBedCaller): HomeBedAction[] {
  if (!caller.canWrite || !caller.institutionId || caller.institutionId !== bed.institution_id) return []
  return bed.allowed_actions.filter((a): a is HomeBedAction => {
    if (!(a in ACTION_LABELS)) return false
    return DOCTOR_ACTIONS.includes(a as HomeBedAction) ? Boolean(caller.practitionerId) : true
  })
}

/** Overdue marks of an open bed: the period is over (须再评估或撤床) and/or a round is late. */
export function overdueMarks(bed: HomeBed): string[] {
  const marks: string[] = []
  if (bed.period_overdue) marks.push('周期已满')
  if (bed.round_overdue) marks.push('查床逾期')
  return marks
}

/** The assessment's conclusion as the API records it: `{qualified: bool, gaps: string[]}`. */
export function assessmentOf(bed: HomeBed): { qualified: boolean; gaps: string[] } | null {
  const a = bed.assessment
  if (!a || typeof a !== 'object') return null
  const qualified = a.qualified === true
  const gaps = Array.isArray(a.gaps) ? a.gaps.filter((g): g is string => typeof g === 'string') : []
  return { qualified, gaps }
}

/** Today in Beijing as YYYY-MM-DD. */
export function beijingToday(now: Date = new Date()): string {
  return now.toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' })
}
