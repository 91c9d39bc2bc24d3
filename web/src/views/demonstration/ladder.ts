// The 示范创建 review ladder as the console offers it: which step buttons an application shows (from the
// server's `allowed_actions`, which already knows the caller's level and whether it holds the record),
// their labels and the fields each step asks for, and the body each step sends.
import type { components } from '@/api/schema'

export type Application = components['schemas']['ApplicationRead']
export type NationalResult = components['schemas']['NationalResult']

export const LADDER_ACTIONS = [
  'submit',
  'county-recommend',
  'city-recommend',
  'province-approve',
  'send-to-nation',
  'national-result',
  'name',
  'reassess',
  'revoke',
  'return',
  'decline',
] as const

export type LadderAction = (typeof LADDER_ACTIONS)[number]

/** Button and dialog titles (the registry's ACTION_LABELS). */
export const ACTION_LABELS: Record<LadderAction, string> = {
  submit: '提交申报',
  'county-recommend': '县级推荐',
  'city-recommend': '市级推荐',
  'province-approve': '省级评审通过',
  'send-to-nation': '报送国家',
  'national-result': '登记国家评估结果',
  name: '命名',
  reassess: '动态管理复核',
  revoke: '撤销命名',
  return: '退回',
  decline: '不予推荐',
}

/** Steps that end or send back: shown apart from the steps up the ladder. */
const BACKWARD: ReadonlySet<LadderAction> = new Set(['return', 'decline', 'revoke'])

export function isLadderAction(value: string): value is LadderAction {
  return (LADDER_ACTIONS as readonly string[]).includes(value)
}

export interface OfferedActions {
  forward: LadderAction[]
  backward: LadderAction[]
  /** PUT province-review: the province records its review while it holds a city-recommended application. */
  provinceReview: boolean
}

/** The steps to show: what the server allows the caller now, in ladder order. The province's review
 * record goes with its approval (approval needs it first). */
export function offeredActions(application: Pick<Application, 'allowed_actions'>, canProvinceReview: boolean): OfferedActions {
  const allowed = application.allowed_actions.filter(isLadderAction)
  const ordered = LADDER_ACTIONS.filter((a) => allowed.includes(a))
  return {
    forward: ordered.filter((a) => !BACKWARD.has(a)),
    backward: ordered.filter((a) => BACKWARD.has(a)),
    provinceReview: canProvinceReview && allowed.includes('province-approve'),
  }
}

/** One form for every step; each step reads the fields it needs. */
export interface StepForm {
  opinion: string
  reason: string
  reasons: string
  note: string
  result: NationalResult | ''
  result_date: string
  document_no: string
  named_date: string
  assessed_date: string
  passed: boolean
}

export function emptyStepForm(today: string): StepForm {
  return {
    opinion: '',
    reason: '',
    reasons: '',
    note: '',
    result: '',
    result_date: today,
    document_no: '',
    named_date: today,
    assessed_date: today,
    passed: true,
  }
}

/** The fields a step's dialog shows (keys of StepForm). */
export const STEP_FIELDS: Record<LadderAction, (keyof StepForm)[]> = {
  submit: [],
  'county-recommend': ['opinion'],
  'city-recommend': ['opinion'],
  'province-approve': ['reasons'],
  'send-to-nation': ['note'],
  'national-result': ['result', 'result_date', 'document_no', 'note'],
  name: ['named_date', 'document_no'],
  reassess: ['assessed_date', 'passed', 'opinion'],
  revoke: ['reason'],
  return: ['reason'],
  decline: ['reason'],
}

export type StepBody =
  | components['schemas']['OpinionBody']
  | components['schemas']['ReasonBody']
  | components['schemas']['ProvinceApproveBody']
  | components['schemas']['SendToNationBody']
  | components['schemas']['NationalResultBody']
  | components['schemas']['NameBody']
  | components['schemas']['ReassessBody']
  | null

function optional(text: string): string | null {
  const trimmed = text.trim()
  return trimmed === '' ? null : trimmed
}

/** The request body of a step from the form (null: the step sends none). */
export function stepBody(action: LadderAction, form: StepForm): StepBody {
  switch (action) {
    case 'submit':
      return null
    case 'county-recommend':
    case 'city-recommend':
      return { opinion: form.opinion.trim() }
    case 'province-approve':
      return { reasons: form.reasons.trim() }
    case 'send-to-nation':
      return { note: optional(form.note) }
    case 'national-result':
      return {
        result: form.result as NationalResult,
        result_date: form.result_date,
        document_no: optional(form.document_no),
        note: optional(form.note),
      }
    case 'name':
      return { named_date: form.named_date, document_no: form.document_no.trim() }
    case 'reassess':
      return { assessed_date: form.assessed_date, passed: form.passed, opinion: form.opinion.trim() }
    case 'revoke':
    case 'return':
    case 'decline':
      return { reason: form.reason.trim() }
  }
}

/** The state filter that shows what waits for the caller's level (null: no such shortcut). */
export function waitingStates(role: string | undefined): components['schemas']['ApplicationState'][] {
  switch (role) {
    case 'county_admin':
      return ['submitted']
    case 'city_admin':
      return ['county_recommended', 'submitted']
    case 'province_admin':
      return ['city_recommended', 'province_approved']
    default:
      return []
  }
}

/** Today in China (business dates are YYYY-MM-DD in Asia/Shanghai). */
export function todayInChina(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now)
}
