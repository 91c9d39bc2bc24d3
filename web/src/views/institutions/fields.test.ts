import { describe, expect, it } from 'vitest'

import { changedFields, createBody, describeChanges, emptyForm } from './fields'

describe('changedFields', () => {
  it('sends only what the user changed, trimmed', () => {
    const original = { ...emptyForm('350206'), name: '湖里颐养院', beds_elderly_care: 80, address: '湖里区' }
    const form = { ...original, beds_elderly_care: 96, name: ' 湖里颐养院 ' }
    expect(changedFields(original, form)).toEqual({ beds_elderly_care: 96 })
  })

  it('sends a cleared text as null and nothing when nothing changed', () => {
    const original = { ...emptyForm('350206'), address: '湖里区' }
    expect(changedFields(original, { ...original, address: '  ' })).toEqual({ address: null })
    expect(changedFields(original, { ...original })).toEqual({})
  })
})

describe('createBody', () => {
  it('leaves blank texts and nulls out, keeps zeros and false', () => {
    const body = createBody({ ...emptyForm('350206'), name: '新机构', address: ' ' })
    expect(body).toMatchObject({ name: '新机构', region_code: '350206', beds_medical: 0, tcm_hall: false })
    expect('address' in body).toBe(false)
    expect('uscc' in body).toBe(false)
  })
})

describe('describeChanges', () => {
  it('shows old → new with Chinese labels, and a lone value as itself', () => {
    expect(
      describeChanges({
        fields: ['beds_elderly_care', 'hospice_care', 'address'],
        changes: { beds_elderly_care: [80, 96], hospice_care: [false, true], address: '湖里区' },
      }),
    ).toEqual(['养老床位：80 → 96', '安宁疗护：否 → 是', '地址：湖里区'])
  })

  it('names an unknown field as itself and an empty value as （空）', () => {
    expect(describeChanges({ fields: ['x'], changes: { x: [null, 'a'] } })).toEqual(['x：（空） → a'])
  })
})
