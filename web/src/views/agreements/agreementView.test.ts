import { describe, expect, it } from 'vitest'

import {
  actionsFor,
  addDays,
  draftBody,
  filingLabel,
  partnerName,
  sideOf,
  termEnd,
  todayInShanghai,
  type Agreement,
  type DraftForm,
} from './agreementView'

const HOSPITAL = '11111111-1111-4111-8111-111111111111'
const HOME = '22222222-2222-4222-8222-222222222222'
const OTHER = '33333333-3333-4333-8333-333333333333'

function agreement(overrides: Partial<Agreement> = {}): Agreement {
  return {
    id: '44444444-4444-4444-8444-444444444444',
    title: '厦门新开元医院与兰馨颐养院医养签约合作协议',
    medical_party: { institution_id: HOSPITAL, name: '厦门新开元医院', region_code: '350206' },
    elderly_party: { institution_id: HOME, name: '兰馨颐养院', region_code: '350206' },
    elderly_kind: 'elderly_care',
    region_code: '350206',
    state: 'draft',
    status: 'draft',
    allowed_actions: ['submit'],
    services: ['medical_rounds'],
    visit_count: 1,
    visit_period: 'week',
    visit_staff: null,
    green_channel_terms: null,
    referral_terms: null,
    fee_payer: 'free',
    fee_amount_yuan: null,
    fee_terms: null,
    medical_duties: null,
    elderly_duties: null,
    change_terms: null,
    dispute_terms: null,
    start_date: '2026-12-01',
    end_date: '2027-11-30',
    medical_contact: null,
    elderly_contact: null,
    submitted_by_institution_id: null,
    submitted_at: null,
    countersigned_at: null,
    activated_at: null,
    expired_at: null,
    terminated_at: null,
    terminated_on: null,
    termination_reason: null,
    renews_id: null,
    filed_at: null,
    filed_by: null,
    filing_note: null,
    document: null,
    source_system: null,
    external_id: null,
    version: 1,
    created_at: '2026-11-30T00:00:00Z',
    updated_at: '2026-11-30T00:00:00Z',
    status_label: '草稿',
    service_labels: ['医疗巡诊'],
    visit_frequency_label: '每周 1 次',
    fee_payer_label: '免费（公益性服务）',
    ...overrides,
  }
}

const institutionAdmin = (institutionId: string) => ({
  institutionId,
  can: (p: string) => p === 'contracts:agreements:write',
})
const countyAdmin = { institutionId: null, can: (p: string) => p === 'contracts:agreements:file' }

describe('sides', () => {
  it('names the side of each party and nothing for others', () => {
    expect(sideOf(agreement(), HOSPITAL)).toBe('medical')
    expect(sideOf(agreement(), HOME)).toBe('elderly')
    expect(sideOf(agreement(), OTHER)).toBeNull()
    expect(sideOf(agreement(), null)).toBeNull()
  })

  it('shows the other party to a party and both to an official', () => {
    expect(partnerName(agreement(), HOME)).toBe('厦门新开元医院')
    expect(partnerName(agreement(), HOSPITAL)).toBe('兰馨颐养院')
    expect(partnerName(agreement(), null)).toBe('厦门新开元医院 — 兰馨颐养院')
  })
})

describe('actionsFor', () => {
  it('lets a party submit its draft, and no one else', () => {
    expect(actionsFor(agreement(), institutionAdmin(HOME))).toEqual(['submit'])
    expect(actionsFor(agreement(), institutionAdmin(OTHER))).toEqual([])
    expect(actionsFor(agreement(), countyAdmin)).toEqual([])
  })

  it('lets only the party that did not submit countersign; both may terminate', () => {
    const submitted = agreement({
      state: 'submitted',
      status: 'submitted',
      allowed_actions: ['countersign', 'terminate'],
      submitted_by_institution_id: HOME,
    })
    expect(actionsFor(submitted, institutionAdmin(HOME))).toEqual(['terminate'])
    expect(actionsFor(submitted, institutionAdmin(HOSPITAL))).toEqual(['countersign', 'terminate'])
  })

  it('offers 备案 to the county once the agreement is signed and not yet filed', () => {
    const signed = agreement({ state: 'active', status: 'active', allowed_actions: ['terminate', 'renew'] })
    expect(actionsFor(signed, countyAdmin)).toEqual(['file'])
    expect(actionsFor({ ...signed, filed_at: '2026-11-30T01:00:00Z' }, countyAdmin)).toEqual([])
    expect(actionsFor(agreement({ state: 'submitted' }), countyAdmin)).toEqual([])
    expect(actionsFor(signed, institutionAdmin(HOME))).toEqual(['renew', 'terminate'])
  })

  it('labels the filing', () => {
    expect(filingLabel({ state: 'active', filed_at: null })).toBe('待备案')
    expect(filingLabel({ state: 'active', filed_at: '2026-11-30T01:00:00Z' })).toBe('已备案')
    expect(filingLabel({ state: 'draft', filed_at: null })).toBe('—')
  })
})

describe('dates', () => {
  it('adds days across months and leap years', () => {
    expect(addDays('2028-02-28', 1)).toBe('2028-02-29')
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01')
  })

  it('ends a term of whole years the day before the anniversary', () => {
    expect(termEnd('2026-07-01', 1)).toBe('2027-06-30')
    expect(termEnd('2027-01-01', 3)).toBe('2029-12-31')
  })

  it('takes today in Asia/Shanghai', () => {
    expect(todayInShanghai(new Date('2026-11-30T17:00:00Z'))).toBe('2026-12-01')
    expect(todayInShanghai(new Date('2026-11-30T15:59:00Z'))).toBe('2026-11-30')
  })
})

describe('draftBody', () => {
  const form: DraftForm = {
    partnerId: HOSPITAL,
    partnerKind: 'medical',
    services: ['medical_rounds', 'two_way_referral'],
    visitCount: 2,
    visitPeriod: 'month',
    feePayer: 'free',
    feeAmount: '',
    startDate: '2026-12-01',
    endDate: '2027-11-30',
    title: ' ',
    visitStaff: '全科医生 1 名、护士 1 名',
    greenChannelTerms: '',
    referralTerms: '',
    feeTerms: '',
    medicalDuties: '',
    elderlyDuties: '',
    contactName: '王主任',
    contactPhone: '13812345678',
  }

  it('puts an elderly-care caller on the 乙方 side with its contact', () => {
    const body = draftBody(form, HOME)
    expect(body.medical_institution_id).toBe(HOSPITAL)
    expect(body.elderly_institution_id).toBe(HOME)
    expect(body.elderly_contact).toEqual({ name: '王主任', phone: '13812345678' })
    expect(body.medical_contact).toBeUndefined()
    expect(body.title).toBeNull()
    expect(body.fee_amount_yuan).toBeNull()
    expect(body.visit_staff).toBe('全科医生 1 名、护士 1 名')
  })

  it('puts a medical caller on the 甲方 side when the partner is a home', () => {
    const body = draftBody({ ...form, partnerId: HOME, partnerKind: 'integrated', contactPhone: '' }, HOSPITAL)
    expect(body.medical_institution_id).toBe(HOSPITAL)
    expect(body.elderly_institution_id).toBe(HOME)
    expect(body.medical_contact).toBeNull()
  })
})
