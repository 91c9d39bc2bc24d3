// The visit form is built from the catalog's record templates (the day bundle's record_templates, kept
// on the phone for offline use): for the items done, the base fields plus each item's own (a key once), the photos
// and signature the strictest of them asks. Values of vital-sign keys go in the record's `vital_signs`,
// the others in its `fields`; the record names the template version it was filled against, and the
// server checks it again (422 record_template_violation); `in_vital_signs` says where a value goes. Without a cached template (never loaded
// online) the form falls back to the vital signs and sends no version (stored unchecked).
import type { components } from '@/api/schema'

import type { VisitRecordBody } from './offline/queue'

export type TemplatesRead = components['schemas']['TemplatesRead']
/** What the form needs of a template version: the day bundle's `record_templates` or a whole version. */
export type Templates = Pick<TemplatesRead, 'version' | 'base' | 'items'>
export type TemplateField = TemplatesRead['base']['fields'][number]
type VitalSigns = NonNullable<VisitRecordBody['vital_signs']>
export type VitalKey = keyof VitalSigns

export interface RecordTemplate {
  version: string | null
  fields: TemplateField[]
  photosMin: number
  signatureRequired: boolean
}

const vital = (key: string, label: string, unit: string, min: number, max: number, decimals = 0): TemplateField =>
  decimals
    ? { type: 'number', key, label, unit, min: String(min), max: String(max), decimals, required: false, source: 'rules.md', in_vital_signs: true }
    : { type: 'integer', key, label, unit, min, max, required: false, source: 'rules.md', in_vital_signs: true }

export const FALLBACK_TEMPLATE: RecordTemplate = {
  version: null,
  fields: [
    vital('bp_systolic', '收缩压', 'mmHg', 60, 260),
    vital('bp_diastolic', '舒张压', 'mmHg', 30, 160),
    vital('pulse', '脉搏', '次/分', 20, 250),
    vital('temperature_c', '体温', '℃', 34, 43, 1),
    vital('spo2', '血氧饱和度', '%', 50, 100),
  ],
  photosMin: 0,
  signatureRequired: true,
}

/** The form for a visit of these items. */
export function templateFor(itemCodes: readonly string[], templates: Templates | null): RecordTemplate {
  if (!templates) return FALLBACK_TEMPLATE
  const parts = [templates.base, ...itemCodes.map((code) => templates.items[code]).filter((p) => p !== undefined)]
  const fields = new Map<string, TemplateField>()
  for (const part of parts) {
    for (const field of part.fields) {
      const known = fields.get(field.key)
      if (!known || (field.required && !known.required)) fields.set(field.key, field)
    }
  }
  // items' own fields first (what the visit is about), then the base's
  const ordered = [...fields.values()].sort((a, b) => Number(templates.base.fields.some((f) => f.key === a.key)) - Number(templates.base.fields.some((f) => f.key === b.key)))
  return {
    version: templates.version,
    fields: ordered,
    photosMin: Math.max(0, ...parts.map((p) => p.photos_min)),
    signatureRequired: parts.some((p) => p.signature_required),
  }
}

export type FormValue = string | boolean

export interface CheckedRecord {
  errors: Record<string, string>
  vitalSigns: VitalSigns
  fields: Record<string, boolean | number | string>
}

/** The form's values checked against the template (in Chinese), split into `vital_signs` and `fields`. */
export function checkRecord(template: RecordTemplate, values: Record<string, FormValue | undefined>): CheckedRecord {
  const errors: Record<string, string> = {}
  const vitalSigns: Record<string, number> = {}
  const fields: Record<string, boolean | number | string> = {}
  for (const field of template.fields) {
    const raw = values[field.key]
    const empty = raw === undefined || raw === '' || (field.type === 'boolean' && raw === false && !field.required)
    if (empty) {
      if (field.required && field.type !== 'boolean') errors[field.key] = `请填写${field.label}`
      continue
    }
    let value: boolean | number | string
    if (field.type === 'number' || field.type === 'integer') {
      const number = Number(String(raw).trim())
      const min = Number(field.min)
      const max = Number(field.max)
      if (String(raw).trim() === '' || Number.isNaN(number)) {
        errors[field.key] = `${field.label}须为数字`
        continue
      }
      if (field.type === 'integer' && !Number.isInteger(number)) {
        errors[field.key] = `${field.label}须为整数`
        continue
      }
      if (field.type === 'number' && (String(raw).split('.')[1]?.length ?? 0) > field.decimals) {
        errors[field.key] = `${field.label}最多 ${field.decimals} 位小数`
        continue
      }
      if (number < min || number > max) {
        errors[field.key] = `${field.label}应在 ${min}–${max} ${field.unit} 之间`
        continue
      }
      value = number
    } else if (field.type === 'boolean') {
      value = raw === true
    } else if (field.type === 'choice') {
      if (!field.options.some((o) => o.value === raw)) {
        errors[field.key] = `请选择${field.label}`
        continue
      }
      value = String(raw)
    } else {
      value = String(raw).trim()
      if (value.length > field.max_length) {
        errors[field.key] = `${field.label}最多 ${field.max_length} 字`
        continue
      }
    }
    if (field.in_vital_signs && typeof value === 'number') vitalSigns[field.key] = value
    else fields[field.key] = value
  }
  const sys = vitalSigns.bp_systolic
  const dia = vitalSigns.bp_diastolic
  if ((sys === undefined) !== (dia === undefined)) errors.bp_diastolic ??= '收缩压与舒张压须同时填写'
  else if (sys !== undefined && dia !== undefined && dia >= sys) errors.bp_diastolic ??= '舒张压须低于收缩压'
  return { errors, vitalSigns: vitalSigns as VitalSigns, fields }
}
