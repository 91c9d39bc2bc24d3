import { describe, expect, it } from 'vitest'

import { actionsFor, beijingTime, boxOf, directionFor, type Referral } from './referralView'

const HOSPITAL = '00000000-0000-0000-0000-00000000000a'
const HOME = '00000000-0000-0000-0000-00000000000b'

function referral(allowed: string[]): Referral {
  return {
    id: 'r1',
    agreement_id: 'a1',
    direction: 'up',
    direction_label: '上转',
    urgency: 'routine',
    urgency_label: '普通',
    from_institution_id: HOME,
    to_institution_id: HOSPITAL,
    region_code: '350206',
    state: 'requested',
    state_label: '已申请',
    allowed_actions: allowed,
    reason: '胸闷',
    resident: { name: '张*丰', id_number: '110105********002X', phone: null, masked: true },
    requested_at: '2026-11-30T00:15:00Z',
    accepted_at: null,
    admitted_at: null,
    returned_at: null,
    closed_at: null,
    close_reason: null,
    version: 1,
  }
}

describe('referral sides and actions', () => {
  it('the receiving institution accepts or declines, the referring one may only cancel', () => {
    const r = referral(['accept', 'decline', 'cancel'])
    expect(boxOf(r, HOSPITAL)).toBe('received')
    expect(boxOf(r, HOME)).toBe('sent')
    expect(actionsFor(r, { institutionId: HOSPITAL, canWrite: true })).toEqual(['accept', 'decline'])
    expect(actionsFor(r, { institutionId: HOME, canWrite: true })).toEqual(['cancel'])
  })

  it('officials, strangers and read-only users get no buttons', () => {
    const r = referral(['accept', 'decline', 'cancel'])
    expect(boxOf(r, null)).toBeNull()
    expect(actionsFor(r, { institutionId: null, canWrite: true })).toEqual([])
    expect(actionsFor(r, { institutionId: 'someone-else', canWrite: true })).toEqual([])
    expect(actionsFor(r, { institutionId: HOSPITAL, canWrite: false })).toEqual([])
  })

  it('after admission only the receiver returns; a closed referral offers nothing', () => {
    expect(actionsFor(referral(['return']), { institutionId: HOSPITAL, canWrite: true })).toEqual(['return'])
    expect(actionsFor(referral(['return']), { institutionId: HOME, canWrite: true })).toEqual([])
    expect(actionsFor(referral([]), { institutionId: HOSPITAL, canWrite: true })).toEqual([])
  })

  it('elderly-care refers up, medical down; instants shown in Beijing time', () => {
    expect(directionFor('elderly')).toBe('up')
    expect(directionFor('medical')).toBe('down')
    expect(beijingTime('2026-11-30T00:15:00Z')).toBe('2026-11-30 08:15')
    expect(beijingTime(null)).toBe('')
  })
})
