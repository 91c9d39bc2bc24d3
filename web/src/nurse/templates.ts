// The visit form's fields. Each catalog item will carry its record template (GET /catalog/items/{code}/
// template, being added to the API): until then every item has the base template — vital signs and
// notes — which is also what a template's common part holds. The form is built from this list alone.
import type { VisitRecordBody } from './offline/queue'

export type VitalKey = keyof NonNullable<VisitRecordBody['vital_signs']>

export interface NumberField {
  key: VitalKey
  label: string
  unit: string
  min: number
  max: number
  step: number
}

export interface RecordTemplate {
  version: string
  vitals: NumberField[]
  notesRequired: boolean
  photosMin: number
  signatureRequired: boolean
}

export const BASE_TEMPLATE: RecordTemplate = {
  version: 'base-1',
  vitals: [
    { key: 'bp_systolic', label: '收缩压', unit: 'mmHg', min: 60, max: 260, step: 1 },
    { key: 'bp_diastolic', label: '舒张压', unit: 'mmHg', min: 30, max: 160, step: 1 },
    { key: 'pulse', label: '脉搏', unit: '次/分', min: 20, max: 250, step: 1 },
    { key: 'temperature_c', label: '体温', unit: '℃', min: 34, max: 43, step: 0.1 },
    { key: 'spo2', label: '血氧饱和度', unit: '%', min: 50, max: 100, step: 1 },
    { key: 'blood_glucose_mmol', label: '血糖', unit: 'mmol/L', min: 1, max: 35, step: 0.1 },
  ],
  notesRequired: false,
  photosMin: 0,
  signatureRequired: true,
}

/** The template for a visit of these items: the first item's own template among `known` (the catalog's,
 * once the API serves them), else the base one. */
export function templateFor(itemCodes: readonly string[], known: ReadonlyMap<string, RecordTemplate> = new Map()): RecordTemplate {
  for (const code of itemCodes) {
    const template = known.get(code)
    if (template) return template
  }
  return BASE_TEMPLATE
}

/** Field errors in Chinese for what the nurse typed (the server checks again). */
export function checkVitals(template: RecordTemplate, values: Partial<Record<VitalKey, number | null>>): Record<string, string> {
  const errors: Record<string, string> = {}
  for (const field of template.vitals) {
    const value = values[field.key]
    if (value === null || value === undefined) continue
    if (value < field.min || value > field.max) errors[field.key] = `${field.label}应在 ${field.min}–${field.max} ${field.unit} 之间`
  }
  const sys = values.bp_systolic
  const dia = values.bp_diastolic
  if ((sys == null) !== (dia == null)) errors.bp_diastolic = '收缩压与舒张压须同时填写'
  else if (sys != null && dia != null && dia >= sys) errors.bp_diastolic = '舒张压须低于收缩压'
  return errors
}
