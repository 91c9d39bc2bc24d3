// The dispatch board's preview of who may take an order, mirroring how the homecare service decides
// (services/homecare/orders/lifecycle.py check_nurse, booking.py): an active nurse of the provider,
// eligible for home visits (the registry's homecare_eligible: registered, 5 years' clinical nursing,
// 护师 or above, no misconduct), at or above 护师 and each item's required title, trained for every
// item that needs specialist training, and with no other booking overlapping the order's window. The
// server decides on assignment; its refusal is shown next to the nurse when the preview missed it.
import type { components } from '@/api/schema'

type S = components['schemas']
export type Nurse = Pick<S['PractitionerRead'], 'id' | 'name' | 'kind' | 'active' | 'homecare_eligible' | 'title' | 'trainings'>
export interface OrderItemNeeds {
  item_code: string
  item_name: string
  needs_specialist_training: boolean
  /** From the catalog: the lowest nurse title (code or label), null for the general rule. */
  required_title: string | null
}
export interface Booking {
  order_id: string
  nurse_practitioner_id: string | null
  window_start: string
  window_end: string
}

/** The nurses' title ladder, lowest first (codes and labels, as the service accepts both). */
export const NURSE_TITLES: readonly (readonly [string, string])[] = [
  ['nurse', '护士'],
  ['senior_nurse', '护师'],
  ['supervising_nurse', '主管护师'],
  ['associate_chief_nurse', '副主任护师'],
  ['chief_nurse', '主任护师'],
]
/** homecare.nurse_min_title (config_defaults.csv): 护师. */
export const MIN_TITLE = 'senior_nurse'

export function titleRank(title: string | null | undefined): number {
  return NURSE_TITLES.findIndex((names) => title !== null && title !== undefined && names.includes(title))
}

function titleLabel(title: string): string {
  return NURSE_TITLES.find((names) => names.includes(title))?.[1] ?? title
}

/** Why this nurse may not take these items (empty: qualified), in the service's order. */
export function qualificationGaps(nurse: Nurse, items: readonly OrderItemNeeds[]): string[] {
  if (nurse.kind !== 'nurse' || !nurse.active) return ['非在职护士']
  if (!nurse.homecare_eligible) return ['不具备上门护理资格（注册、5 年临床护理经验、护师及以上职称）']
  const rank = titleRank(nurse.title)
  if (rank < titleRank(MIN_TITLE)) return [`上门护理须为${titleLabel(MIN_TITLE)}及以上职称`]
  const gaps: string[] = []
  const lowTitle = items.filter((i) => i.required_title && rank < titleRank(i.required_title))
  if (lowTitle.length > 0) {
    gaps.push(`职称低于项目要求：${lowTitle.map((i) => `${i.item_name}（${titleLabel(i.required_title ?? '')}）`).join('、')}`)
  }
  const trained = new Set(nurse.trainings.flatMap((t) => t.item_codes ?? []))
  const untrained = items.filter((i) => i.needs_specialist_training && !trained.has(i.item_code))
  if (untrained.length > 0) gaps.push(`未取得专科培训：${untrained.map((i) => i.item_name).join('、')}`)
  return gaps
}

/** Half-open windows [start, end) overlap (the service's booking test). */
export function overlaps(aStart: string, aEnd: string, bStart: string, bEnd: string): boolean {
  return Date.parse(aStart) < Date.parse(bEnd) && Date.parse(aEnd) > Date.parse(bStart)
}

/** The other order booking this nurse during the window, if any. */
export function conflictingBooking(
  nurseId: string,
  order: { id: string; window_start: string; window_end: string },
  bookings: readonly Booking[],
): Booking | null {
  return (
    bookings.find(
      (b) =>
        b.nurse_practitioner_id === nurseId &&
        b.order_id !== order.id &&
        overlaps(b.window_start, b.window_end, order.window_start, order.window_end),
    ) ?? null
  )
}

/** Order statuses that keep a nurse's booking (all but the released ones: cancelled, incident, rejected). */
export const BOOKED_STATUSES = ['assigned', 'en_route', 'checked_in', 'in_service', 'checked_out'] as const

/** A window as 2026-12-01 09:00–11:00 (Beijing time). */
export function formatWindow(start: string, end: string): string {
  const fmt = (value: string, withDate: boolean): string => {
    const parts = new Intl.DateTimeFormat('zh-CN', {
      timeZone: 'Asia/Shanghai',
      ...(withDate ? { year: 'numeric', month: '2-digit', day: '2-digit' } : {}),
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    }).formatToParts(new Date(value))
    const get = (type: string): string => parts.find((p) => p.type === type)?.value ?? ''
    const time = `${get('hour')}:${get('minute')}`
    return withDate ? `${get('year')}-${get('month')}-${get('day')} ${time}` : time
  }
  return `${fmt(start, true)}–${fmt(end, false)}`
}
