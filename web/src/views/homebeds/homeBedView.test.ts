import { describe, expect, it } from 'vitest'

import { actionsFor, assessmentOf, beijingToday, overdueMarks, type HomeBed } from './homeBedView'

const PROVIDER = '00000000-0000-0000-0000-0000000000aa'

function bed(overrides: Partial<HomeBed> = {}): HomeBed {
  return {
    id: 'b1',
    institution_id: PROVIDER,
    recipient_id: 'r1',
    record_no: 'JCB-1',
    provider_name: '厦门新开元医院',
    region_code: '350206',
    status: 'applied',
    status_label: '已申请',
    allowed_actions: ['assess', 'withdraw'],
    assessment: null,
    assessed_at: null,
    assessed_by_practitioner_id: null,
    care_plan: null,
    close_reason: null,
    close_reason_label: null,
    closed_date: null,
    condition_labels: [],
    condition_stable: true,
    conditions: ['chronic_bed_rest'],
    created_at: '2026-11-30T00:00:00Z',
    diagnosis: '脑梗死后遗症',
    has_family_doctor_contract: true,
    last_round_date: null,
    mobility: 'bedridden',
    mobility_label: '长期卧床',
    next_round_due: null,
    opened_by_practitioner_id: null,
    opened_date: null,
    period_end_date: null,
    period_overdue: false,
    reassessment_count: 0,
    round_interval_days: null,
    round_overdue: false,
    updated_at: '2026-11-30T00:00:00Z',
    version: 1,
    ...overrides,
  }
}

describe('home-bed actions', () => {
  it('a doctor of the provider assesses; an admin of the provider may only withdraw', () => {
    const doctor = { institutionId: PROVIDER, practitionerId: 'p1', canWrite: true }
    const admin = { institutionId: PROVIDER, practitionerId: null, canWrite: true }
    expect(actionsFor(bed(), doctor)).toEqual(['assess', 'withdraw'])
    expect(actionsFor(bed(), admin)).toEqual(['withdraw'])
  })

  it('another institution, an official or a read-only role gets nothing', () => {
    expect(actionsFor(bed(), { institutionId: 'other', practitionerId: 'p1', canWrite: true })).toEqual([])
    expect(actionsFor(bed(), { institutionId: null, practitionerId: null, canWrite: false })).toEqual([])
    expect(actionsFor(bed(), { institutionId: PROVIDER, practitionerId: 'p1', canWrite: false })).toEqual([])
  })

  it('an open bed: rounds, reassess and close for the doctor; overdue marks', () => {
    const open = bed({ status: 'opened', allowed_actions: ['rounds', 'reassess', 'close'], period_overdue: true, round_overdue: true })
    expect(actionsFor(open, { institutionId: PROVIDER, practitionerId: 'p1', canWrite: true })).toEqual(['rounds', 'reassess', 'close'])
    expect(overdueMarks(open)).toEqual(['周期已满', '查床逾期'])
    expect(overdueMarks(bed())).toEqual([])
  })

  it('reads the assessment conclusion; Beijing date', () => {
    expect(assessmentOf(bed())).toBeNull()
    expect(assessmentOf(bed({ assessment: { qualified: false, gaps: ['病情须稳定', 3] } }))).toEqual({ qualified: false, gaps: ['病情须稳定'] })
    expect(beijingToday(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12-01')
  })
})
