// The preview follows the service's rules (rules.md 互联网+护理服务: nurses with 5 years' clinical
// experience and 护师 or above; specialist items need the training; no overlapping bookings).
import { describe, expect, it } from 'vitest'

import { conflictingBooking, formatWindow, overlaps, qualificationGaps, titleRank, type Nurse, type OrderItemNeeds } from './dispatch'

const basic: OrderItemNeeds = { item_code: 'HC01', item_name: '生命体征监测', needs_specialist_training: false, required_title: null }
const picc: OrderItemNeeds = { item_code: 'HC16', item_name: '留置胃管置管与更换', needs_specialist_training: true, required_title: null }
const senior: OrderItemNeeds = { item_code: 'HC30', item_name: '造口护理', needs_specialist_training: false, required_title: '主管护师' }

function nurse(overrides: Partial<Nurse> = {}): Nurse {
  return { id: 'n1', name: '林晓燕', kind: 'nurse', active: true, homecare_eligible: true, title: 'supervising_nurse', trainings: [], ...overrides }
}

describe('qualificationGaps', () => {
  it('passes an eligible 主管护师 for basic items', () => {
    expect(qualificationGaps(nurse(), [basic])).toEqual([])
  })
  it('refuses a nurse without home-visit eligibility first', () => {
    expect(qualificationGaps(nurse({ homecare_eligible: false, title: 'nurse' }), [basic])[0]).toContain('不具备上门护理资格')
  })
  it('refuses an inactive practitioner and a doctor', () => {
    expect(qualificationGaps(nurse({ active: false }), [basic])).toEqual(['非在职护士'])
    expect(qualificationGaps(nurse({ kind: 'doctor' }), [basic])).toEqual(['非在职护士'])
  })
  it('refuses a title under 护师 even when flagged eligible', () => {
    expect(qualificationGaps(nurse({ title: 'nurse' }), [basic])).toEqual(['上门护理须为护师及以上职称'])
  })
  it('names the items whose required title is higher (label or code)', () => {
    const gaps = qualificationGaps(nurse({ title: 'senior_nurse' }), [basic, senior])
    expect(gaps).toEqual(['职称低于项目要求：造口护理（主管护师）'])
    expect(qualificationGaps(nurse({ title: 'senior_nurse' }), [{ ...senior, required_title: 'supervising_nurse' }])).toHaveLength(1)
  })
  it('asks for the specialist training of specialist items', () => {
    expect(qualificationGaps(nurse(), [picc])).toEqual(['未取得专科培训：留置胃管置管与更换'])
    const trained = nurse({ trainings: [{ name: 'PICC 维护专科护士培训', item_codes: ['HC16', 'HC18'] }] })
    expect(qualificationGaps(trained, [basic, picc])).toEqual([])
  })
})

describe('bookings', () => {
  const order = { id: 'o1', window_start: '2026-12-01T09:00:00+08:00', window_end: '2026-12-01T11:00:00+08:00' }
  it('treats windows as half-open', () => {
    expect(overlaps(order.window_start, order.window_end, '2026-12-01T11:00:00+08:00', '2026-12-01T12:00:00+08:00')).toBe(false)
    expect(overlaps(order.window_start, order.window_end, '2026-12-01T10:59:00+08:00', '2026-12-01T12:00:00+08:00')).toBe(true)
  })
  it("finds the nurse's other overlapping order, not this one nor another nurse's", () => {
    const bookings = [
      { order_id: 'o1', nurse_practitioner_id: 'n1', window_start: order.window_start, window_end: order.window_end },
      { order_id: 'o2', nurse_practitioner_id: 'n2', window_start: order.window_start, window_end: order.window_end },
      { order_id: 'o3', nurse_practitioner_id: 'n1', window_start: '2026-12-01T10:00:00+08:00', window_end: '2026-12-01T10:30:00+08:00' },
    ]
    expect(conflictingBooking('n1', order, bookings)?.order_id).toBe('o3')
    expect(conflictingBooking('n2', order, bookings.slice(0, 1))).toBeNull()
  })
})

describe('formatting', () => {
  it('ranks titles by code and label', () => {
    expect(titleRank('护师')).toBe(titleRank('senior_nurse'))
    expect(titleRank(null)).toBe(-1)
  })
  it('shows a window in Beijing time', () => {
    expect(formatWindow('2026-12-01T01:00:00Z', '2026-12-01T03:00:00Z')).toBe('2026-12-01 09:00–11:00')
  })
})
