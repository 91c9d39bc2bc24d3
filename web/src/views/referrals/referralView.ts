// What the referral screens decide outside their templates: which side of a referral the caller's
// institution is, and which of the server's allowed transitions this caller may take. The contracts
// service's rules: the receiving institution accepts, declines (with a reason), admits and returns; the
// referring institution cancels (with a reason); officials only read. The server decides; the console
// only hides what it would refuse.
import type { components } from '@/api/schema'

export type Referral = components['schemas']['ReferralRead']
export type ReferralCreate = components['schemas']['ReferralCreate']
export type ReferralState = components['schemas']['ReferralState']
export type ReferralDirection = components['schemas']['ReferralDirection']
export type Box = 'received' | 'sent'

export type ReferralAction = 'accept' | 'decline' | 'admit' | 'return' | 'cancel'

/** Actions that need a written reason (ReferralClose). */
export const REASON_ACTIONS: readonly ReferralAction[] = ['decline', 'cancel']

export const ACTION_LABELS: Record<ReferralAction, string> = {
  accept: '接收',
  decline: '拒绝',
  admit: '办理入院/入住',
  return: '转回',
  cancel: '取消转诊',
}

export const ACTION_DONE: Record<ReferralAction, string> = {
  accept: '已接收转诊',
  decline: '已拒绝转诊',
  admit: '已办理入院/入住',
  return: '已转回',
  cancel: '已取消转诊',
}

const RECEIVER_ACTIONS: readonly ReferralAction[] = ['accept', 'decline', 'admit', 'return']

/** 'received' when the caller's institution is the receiving side, 'sent' when it referred out, null
 * for officials and strangers. */
export function boxOf(referral: Referral, institutionId: string | null | undefined): Box | null {
  if (!institutionId) return null
  if (referral.to_institution_id === institutionId) return 'received'
  if (referral.from_institution_id === institutionId) return 'sent'
  return null
}

/** The server's `allowed_actions` narrowed to the caller's side and write permission, in the server's
 * order. */
export function actionsFor(
  referral: Referral,
  caller: { institutionId: string | null | undefined; canWrite: boolean },
): ReferralAction[] {
  const box = boxOf(referral, caller.institutionId)
  if (box === null || !caller.canWrite) return []
  const mine = box === 'received' ? RECEIVER_ACTIONS : (['cancel'] as const)
  return referral.allowed_actions.filter((a): a is ReferralAction => (mine as readonly string[]).includes(a))
}

/** `2026-11-30T08:15:00+08:00` → `2026-11-30 08:15` in Beijing time (the API's instants are UTC). */
export function beijingTime(iso: string | null | undefined): string {
  if (!iso) return ''
  const date = new Date(iso)
  if (Number.isNaN(date.getTime())) return iso
  return date
    .toLocaleString('sv-SE', { timeZone: 'Asia/Shanghai', hour12: false })
    .slice(0, 16)
}

/** The referral's direction as the caller's institution sees a new one on an agreement: the elderly-care
 * party refers up (上转), the medical party down (下转). */
export function directionFor(side: 'medical' | 'elderly'): ReferralDirection {
  return side === 'elderly' ? 'up' : 'down'
}
