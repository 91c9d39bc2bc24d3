// 备案 filings as the county desk shows them: the history's actions in Chinese, the documents a filing
// lacks (the registry's rule: 备案表, 房屋证明, 人员资格, 管理制度 are required; the layout plan is not).
import type { components } from '@/api/schema'

export type Filing = components['schemas']['FilingRead']
export type FilingEvent = components['schemas']['FilingEventRead']
export type FilingDocument = components['schemas']['FilingDocument']
export type ReviewAction = 'reject' | 'revoke'

/** The documents a complete filing holds (copied from services/registry/filings/schemas.py
 * REQUIRED_DOCUMENTS). */
export const REQUIRED_DOCUMENTS: readonly FilingDocument[] = [
  'application_form',
  'premises_proof',
  'staff_qualifications',
  'rules',
]

const EVENT_ACTIONS: Record<string, string> = {
  create: '保存草稿',
  submit: '提交备案',
  correct: '更正',
  resubmit: '重新提交',
  reject: '不予备案',
  revoke: '撤销备案',
}

export function eventLabel(action: string): string {
  return EVENT_ACTIONS[action] ?? action
}

export const REVIEW_ACTIONS: Record<ReviewAction, { label: string; title: string; hint: string }> = {
  reject: {
    label: '不予备案',
    title: '不予备案',
    hint: '材料不符合要求时不予备案；机构更正后可重新提交。',
  },
  revoke: {
    label: '撤销备案',
    title: '撤销备案',
    hint: '撤销后该备案不再有效，且不能恢复；机构须重新备案。',
  },
}

/** The review actions the filing's state allows (from the server's `allowed_actions`). */
export function reviewActions(filing: Pick<Filing, 'allowed_actions'>): ReviewAction[] {
  return (['reject', 'revoke'] as const).filter((action) => (filing.allowed_actions ?? []).includes(action))
}

/** Required documents the filing does not list. */
export function missingDocuments(filing: Pick<Filing, 'documents'>): FilingDocument[] {
  return REQUIRED_DOCUMENTS.filter((doc) => !filing.documents.includes(doc))
}
