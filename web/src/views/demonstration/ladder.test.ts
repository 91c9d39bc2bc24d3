// The steps offered follow the server's allowed_actions (workflow.py: the level holding the application
// acts on it), in ladder order, with the province's review record beside its approval; each step sends
// the body its operation takes (OpenAPI: OpinionBody, ReasonBody, NameBody …).
import { describe, expect, it } from 'vitest'

import { emptyStepForm, offeredActions, stepBody, todayInChina, waitingStates } from './ladder'

describe('offeredActions', () => {
  it('puts forward steps first and return/decline apart, in ladder order', () => {
    const offered = offeredActions({ allowed_actions: ['decline', 'return', 'province-approve'] }, true)
    expect(offered.forward).toEqual(['province-approve'])
    expect(offered.backward).toEqual(['return', 'decline'])
    expect(offered.provinceReview).toBe(true)
  })
  it('offers the review record only with the permission and while the province may approve', () => {
    expect(offeredActions({ allowed_actions: ['province-approve'] }, false).provinceReview).toBe(false)
    expect(offeredActions({ allowed_actions: ['send-to-nation', 'return'] }, true).provinceReview).toBe(false)
  })
  it('ignores actions the console does not know (a newer server)', () => {
    expect(offeredActions({ allowed_actions: ['teleport', 'city-recommend'] }, false).forward).toEqual(['city-recommend'])
  })
  it('offers nothing when the server allows nothing (not the holding level)', () => {
    expect(offeredActions({ allowed_actions: [] }, true)).toEqual({ forward: [], backward: [], provinceReview: false })
  })
})

describe('stepBody', () => {
  const form = {
    ...emptyStepForm('2026-06-15'),
    opinion: ' 同意推荐 ',
    reason: ' 材料不全 ',
    reasons: ' 通过 ',
    document_no: '',
    note: '  ',
  }
  it('sends the trimmed opinion, reason or reasons', () => {
    expect(stepBody('city-recommend', form)).toEqual({ opinion: '同意推荐' })
    expect(stepBody('return', form)).toEqual({ reason: '材料不全' })
    expect(stepBody('province-approve', form)).toEqual({ reasons: '通过' })
  })
  it('sends no body to submit and null for empty optional fields', () => {
    expect(stepBody('submit', form)).toBeNull()
    expect(stepBody('send-to-nation', form)).toEqual({ note: null })
    expect(stepBody('national-result', { ...form, result: 'named' })).toEqual({
      result: 'named',
      result_date: '2026-06-15',
      document_no: null,
      note: null,
    })
  })
})

describe('waitingStates and dates', () => {
  it('names what waits for each reviewing level', () => {
    expect(waitingStates('county_admin')).toEqual(['submitted'])
    expect(waitingStates('province_admin')).toContain('city_recommended')
    expect(waitingStates('institution_admin')).toEqual([])
  })
  it('takes today in Beijing', () => {
    expect(todayInChina(new Date('2026-06-14T17:00:00Z'))).toBe('2026-06-15')
  })
})
