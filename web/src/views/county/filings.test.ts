import { describe, expect, it } from 'vitest'

import { eventLabel, missingDocuments, reviewActions } from './filings'

describe('filings', () => {
  it('offers only the review actions the server allows', () => {
    expect(reviewActions({ allowed_actions: ['correct', 'reject', 'revoke'] })).toEqual(['reject', 'revoke'])
    expect(reviewActions({ allowed_actions: ['resubmit'] })).toEqual([])
  })

  it('lists the required documents a filing lacks (the layout plan is optional)', () => {
    expect(missingDocuments({ documents: ['application_form', 'rules', 'layout_plan'] })).toEqual([
      'premises_proof',
      'staff_qualifications',
    ])
    expect(
      missingDocuments({ documents: ['application_form', 'premises_proof', 'staff_qualifications', 'rules'] }),
    ).toEqual([])
  })

  it('names history actions in Chinese', () => {
    expect(eventLabel('reject')).toBe('不予备案')
    expect(eventLabel('unknown')).toBe('unknown')
  })
})
