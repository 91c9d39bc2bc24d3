// What the agreements screens decide outside their templates: which side of an agreement the caller's
// institution is, which of the server's allowed transitions this caller may take (the server decides;
// the console only hides what it would refuse), the draft form's body, and a renewal's default term.
import type { components } from '@/api/schema'

export type Agreement = components['schemas']['AgreementRead']
export type AgreementCreate = components['schemas']['AgreementCreate']
export type AgreementState = components['schemas']['AgreementState']
export type ServiceKind = components['schemas']['ServiceKind']
export type FeePayer = components['schemas']['FeePayer']
export type VisitPeriod = components['schemas']['VisitPeriod']
export type Partner = components['schemas']['DirectoryInstitution']

/** The kinds that sign as the elderly-care party (乙方); `medical` signs as 甲方. */
export const ELDERLY_SIDE_KINDS: readonly string[] = ['elderly_care', 'integrated']

export type Side = 'medical' | 'elderly'

/** The caller's side in the agreement, or null when its institution is not a party (officials). */
export function sideOf(agreement: Agreement, institutionId: string | null | undefined): Side | null {
  if (!institutionId) return null
  if (agreement.medical_party.institution_id === institutionId) return 'medical'
  if (agreement.elderly_party.institution_id === institutionId) return 'elderly'
  return null
}

/** The other party's name, seen from the caller's institution (both names for officials). */
export function partnerName(agreement: Agreement, institutionId: string | null | undefined): string {
  const side = sideOf(agreement, institutionId)
  if (side === 'medical') return agreement.elderly_party.name
  if (side === 'elderly') return agreement.medical_party.name
  return `${agreement.medical_party.name} — ${agreement.elderly_party.name}`
}

export type AgreementAction = 'submit' | 'countersign' | 'terminate' | 'renew' | 'file'

export interface Caller {
  institutionId: string | null | undefined
  can: (permission: string) => boolean
}

/** The transitions this caller may take now: the server's `allowed_actions` narrowed to what the caller's
 * role and side may do (README of the contracts service: parties write, the other party countersigns,
 * the elderly-care party's county files a signed agreement once). */
export function actionsFor(agreement: Agreement, caller: Caller): AgreementAction[] {
  const actions: AgreementAction[] = []
  const side = sideOf(agreement, caller.institutionId)
  const allowed = new Set(agreement.allowed_actions)
  if (side !== null && caller.can('contracts:agreements:write')) {
    if (allowed.has('submit')) actions.push('submit')
    if (allowed.has('countersign') && agreement.submitted_by_institution_id !== caller.institutionId) {
      actions.push('countersign')
    }
    if (allowed.has('renew')) actions.push('renew')
    if (allowed.has('terminate')) actions.push('terminate')
  }
  const signed: AgreementState[] = ['countersigned', 'active', 'expired']
  if (caller.can('contracts:agreements:file') && signed.includes(agreement.state) && agreement.filed_at === null) {
    actions.push('file')
  }
  return actions
}

/** 备案 as a label for tables: 已备案 / 待备案 (signed, not yet) / — (not signed). */
export function filingLabel(agreement: Pick<Agreement, 'filed_at' | 'state'>): string {
  if (agreement.filed_at) return '已备案'
  return ['countersigned', 'active', 'expired'].includes(agreement.state) ? '待备案' : '—'
}

/** A business date `YYYY-MM-DD` `days` after `date` (calendar arithmetic in UTC: no time-zone drift). */
export function addDays(date: string, days: number): string {
  const [y, m, d] = date.split('-').map(Number)
  const moved = new Date(Date.UTC(y ?? 1970, (m ?? 1) - 1, (d ?? 1) + days))
  return moved.toISOString().slice(0, 10)
}

/** `YYYY-MM-DD` `years` later, the day before (a term of whole years: 2026-07-01 → 2027-06-30). */
export function termEnd(start: string, years: number): string {
  const [y, m, d] = start.split('-').map(Number)
  const moved = new Date(Date.UTC((y ?? 1970) + years, (m ?? 1) - 1, (d ?? 1) - 1))
  return moved.toISOString().slice(0, 10)
}

/** Today in Asia/Shanghai as `YYYY-MM-DD` (the platform's business calendar). */
export function todayInShanghai(now: Date = new Date()): string {
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(now)
}

export interface DraftForm {
  partnerId: string
  partnerKind: string
  services: ServiceKind[]
  visitCount: number
  visitPeriod: VisitPeriod
  feePayer: FeePayer
  feeAmount: string
  startDate: string
  endDate: string
  title: string
  visitStaff: string
  greenChannelTerms: string
  referralTerms: string
  feeTerms: string
  medicalDuties: string
  elderlyDuties: string
  contactName: string
  contactPhone: string
}

function text(value: string): string | null {
  const trimmed = value.trim()
  return trimmed === '' ? null : trimmed
}

/** The body of POST /contracts/agreements from the form: the partner takes the side its kind signs on,
 * the caller's institution the other; the contact given is the caller's side's. */
export function draftBody(form: DraftForm, ownInstitutionId: string): AgreementCreate {
  const partnerIsElderly = ELDERLY_SIDE_KINDS.includes(form.partnerKind)
  const contact =
    text(form.contactName) !== null && text(form.contactPhone) !== null
      ? { name: form.contactName.trim(), phone: form.contactPhone.trim() }
      : null
  const fee = text(form.feeAmount)
  return {
    medical_institution_id: partnerIsElderly ? ownInstitutionId : form.partnerId,
    elderly_institution_id: partnerIsElderly ? form.partnerId : ownInstitutionId,
    services: form.services,
    visit_count: form.visitCount,
    visit_period: form.visitPeriod,
    fee_payer: form.feePayer,
    fee_amount_yuan: fee,
    start_date: form.startDate,
    end_date: form.endDate,
    title: text(form.title),
    visit_staff: text(form.visitStaff),
    green_channel_terms: text(form.greenChannelTerms),
    referral_terms: text(form.referralTerms),
    fee_terms: text(form.feeTerms),
    medical_duties: text(form.medicalDuties),
    elderly_duties: text(form.elderlyDuties),
    ...(partnerIsElderly ? { medical_contact: contact } : { elderly_contact: contact }),
  }
}
