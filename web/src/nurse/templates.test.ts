import { describe, expect, it } from 'vitest'

import { FALLBACK_TEMPLATE, checkRecord, templateFor, type TemplatesRead } from './templates'

const templates: TemplatesRead = {
  version: 'tpl-1',
  status: 'current',
  published_date: '2026-11-30',
  source: 'test',
  versions: ['tpl-1'],
  base: {
    fields: [{ type: 'choice', key: 'elder_condition', label: '服务后老人情况', options: [{ value: 'stable', label: '平稳' }, { value: 'sick', label: '需就医' }], required: false, source: 'likely', in_vital_signs: false }],
    photos_min: 0,
    signature_required: false,
  },
  items: {
    HC01: {
      fields: [
        { type: 'number', key: 'temperature_c', label: '体温', unit: '℃', min: '34', max: '43', decimals: 1, required: true, source: 'rules.md', in_vital_signs: true },
        { type: 'integer', key: 'respiration_rate', label: '呼吸', unit: '次/分', min: 5, max: 60, required: true, source: 'rules.md', in_vital_signs: true },
      ],
      photos_min: 0,
      signature_required: false,
    },
    N07: {
      fields: [{ type: 'number', key: 'wound_length_cm', label: '伤口长', unit: 'cm', min: '0', max: '50', decimals: 1, required: true, source: 'likely', in_vital_signs: false }],
      photos_min: 1,
      signature_required: true,
    },
  },
} as TemplatesRead

describe('record templates', () => {
  it('the form of the items done: their fields first, then the base; the strictest evidence', () => {
    const form = templateFor(['HC01', 'N07'], templates)
    expect(form.version).toBe('tpl-1')
    expect(form.fields.map((f) => f.key)).toEqual(['temperature_c', 'respiration_rate', 'wound_length_cm', 'elder_condition'])
    expect(form).toMatchObject({ photosMin: 1, signatureRequired: true })
    expect(templateFor(['HC01'], null)).toBe(FALLBACK_TEMPLATE)
  })

  it('values checked and split into vital_signs and fields', () => {
    const form = templateFor(['HC01', 'N07'], templates)
    const ok = checkRecord(form, { temperature_c: '36.6', respiration_rate: '18', wound_length_cm: '2.5', elder_condition: 'stable' })
    expect(ok).toEqual({ errors: {}, vitalSigns: { temperature_c: 36.6, respiration_rate: 18 }, fields: { wound_length_cm: 2.5, elder_condition: 'stable' } })
    const bad = checkRecord(form, { temperature_c: '36.66', respiration_rate: '18.5', wound_length_cm: '', elder_condition: 'x' })
    expect(bad.errors).toEqual({
      temperature_c: '体温最多 1 位小数',
      respiration_rate: '呼吸须为整数',
      wound_length_cm: '请填写伤口长',
      elder_condition: '请选择服务后老人情况',
    })
    expect(checkRecord(form, { temperature_c: '50', respiration_rate: '18', wound_length_cm: '1' }).errors).toEqual({ temperature_c: '体温应在 34–43 ℃ 之间' })
  })
})
