// The institution register's fields as officials read them: Chinese labels (detail page, history,
// form), and the pure helpers behind the edit form — the form model made from a record, and the PATCH
// body holding only what the user changed.
import type { components } from '@/api/schema'

export type Institution = components['schemas']['InstitutionRead']
export type InstitutionCreate = components['schemas']['InstitutionCreate']
export type InstitutionUpdate = components['schemas']['InstitutionUpdate']
export type HistoryEntry = components['schemas']['ChangeHistoryEntry']

export const FIELD_LABELS: Record<string, string> = {
  name: '机构名称',
  kind: '机构类别',
  category: '机构细类',
  region_code: '所在区县',
  active: '在用',
  has_medical_unit: '有医疗服务能力',
  uscc: '统一社会信用代码',
  ws218_kind_code: '医疗机构类别代码',
  licence_type: '执业证照类型',
  licence_no: '执业许可证登记号或备案号',
  hospital_grade: '医院等级',
  hospital_type: '医院类型',
  ownership: '公立/民营',
  elderly_care_ownership: '养老机构性质',
  integrated_model: '医养结合模式',
  address: '地址',
  latitude: '纬度',
  longitude: '经度',
  operating_since: '开业日期',
  medical_operating_since: '医疗服务开展日期',
  elderly_care_operating_since: '养老服务开展日期',
  legal_person: '法定代表人',
  contact_name: '联系人',
  contact_phone: '联系电话',
  beds_elderly_care: '养老床位',
  beds_medical: '医疗床位',
  beds_integrated: '医养结合床位',
  beds_rehabilitation: '康复床位',
  beds_nursing: '护理床位',
  beds_hospice: '安宁疗护床位',
  beds_total: '床位合计',
  residents: '入住人数',
  disabled_level_1: '轻度失能人数',
  disabled_level_2: '中度失能人数',
  disabled_level_3: '重度失能人数',
  disabled_level_4: '完全失能人数',
  dementia_residents: '失智人数',
  medical_insurance_designated: '医保定点',
  elderly_green_channel: '老年人绿色通道',
  hospice_care: '安宁疗护',
  home_bed_service: '家庭病床服务',
  internet_nursing_provider: '互联网+护理服务',
  elderly_friendly_year: '老年友善医疗机构认定年份',
  tcm_hall: '中医馆',
  national_demonstration_year: '全国示范命名年份',
  provincial_demonstration_year: '省级示范命名年份',
  operating_beds: '实际开放床位',
  occupied_bed_days: '实际占用总床日数',
  disabled_residents: '失能人数',
  disabled_or_dementia_residents: '失能或失智人数',
}

export const HISTORY_ACTIONS: Record<string, string> = {
  'institution.create': '新增',
  'institution.update': '修改',
  'institution.deactivate': '停用',
  'institution.reactivate': '重新启用',
  'institution.medical_unit': '医疗服务能力变更',
  'institution.year_stat': '年度统计填报',
  'institution.import': '导入',
  'institution.bulk_upsert': '批量上报',
}

export function fieldLabel(field: string): string {
  return FIELD_LABELS[field] ?? field
}

export function actionLabel(action: string): string {
  return HISTORY_ACTIONS[action] ?? action
}

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '（空）'
  if (typeof value === 'boolean') return value ? '是' : '否'
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

/** One line per changed field: `养老床位：80 → 96`; a value recorded alone (a creation) as `养老床位：80`. */
export function describeChanges(entry: Pick<HistoryEntry, 'fields' | 'changes'>): string[] {
  const changes = entry.changes ?? {}
  return entry.fields.map((field) => {
    const value: unknown = changes[field]
    if (Array.isArray(value) && value.length === 2) {
      return `${fieldLabel(field)}：${show(value[0])} → ${show(value[1])}`
    }
    return `${fieldLabel(field)}：${show(value)}`
  })
}

/** What the edit form holds: the writable fields of the register (contact phone and coordinates are not
 * edited here — the phone is masked in what officials read). */
export interface InstitutionFormModel {
  name: string
  kind: Institution['kind']
  category: Institution['category']
  region_code: string
  integrated_model: Institution['integrated_model']
  hospital_grade: Institution['hospital_grade']
  hospital_type: Institution['hospital_type']
  ownership: Institution['ownership']
  elderly_care_ownership: Institution['elderly_care_ownership']
  uscc: string | null
  ws218_kind_code: string | null
  licence_type: Institution['licence_type']
  licence_no: string | null
  address: string | null
  operating_since: string | null
  legal_person: string | null
  contact_name: string | null
  beds_elderly_care: number
  beds_medical: number
  beds_integrated: number
  beds_rehabilitation: number
  beds_nursing: number
  beds_hospice: number
  residents: number
  dementia_residents: number
  medical_insurance_designated: boolean
  elderly_green_channel: boolean
  hospice_care: boolean
  home_bed_service: boolean
  internet_nursing_provider: boolean
  tcm_hall: boolean
}

export const BED_FIELDS = [
  'beds_elderly_care',
  'beds_medical',
  'beds_integrated',
  'beds_rehabilitation',
  'beds_nursing',
  'beds_hospice',
  'residents',
  'dementia_residents',
] as const

export const SERVICE_FIELDS = [
  'medical_insurance_designated',
  'elderly_green_channel',
  'hospice_care',
  'home_bed_service',
  'internet_nursing_provider',
  'tcm_hall',
] as const

export function emptyForm(regionCode: string): InstitutionFormModel {
  return {
    name: '',
    kind: 'elderly_care',
    category: 'elderly_care_home',
    region_code: regionCode,
    integrated_model: null,
    hospital_grade: null,
    hospital_type: null,
    ownership: null,
    elderly_care_ownership: null,
    uscc: null,
    ws218_kind_code: null,
    licence_type: null,
    licence_no: null,
    address: null,
    operating_since: null,
    legal_person: null,
    contact_name: null,
    beds_elderly_care: 0,
    beds_medical: 0,
    beds_integrated: 0,
    beds_rehabilitation: 0,
    beds_nursing: 0,
    beds_hospice: 0,
    residents: 0,
    dementia_residents: 0,
    medical_insurance_designated: false,
    elderly_green_channel: false,
    hospice_care: false,
    home_bed_service: false,
    internet_nursing_provider: false,
    tcm_hall: false,
  }
}

export function formFromInstitution(record: Institution): InstitutionFormModel {
  const form = emptyForm(record.region_code)
  for (const key of Object.keys(form) as (keyof InstitutionFormModel)[]) {
    ;(form as unknown as Record<string, unknown>)[key] = record[key]
  }
  return form
}

function blankToNull(value: unknown): unknown {
  return typeof value === 'string' && value.trim() === '' ? null : value
}

/** The create body: blank texts left out. */
export function createBody(form: InstitutionFormModel): InstitutionCreate {
  const body: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(form)) {
    const clean = blankToNull(value)
    if (clean !== null) body[key] = typeof clean === 'string' ? clean.trim() : clean
  }
  return body as unknown as InstitutionCreate
}

/** The PATCH body: only the fields whose value differs from the record loaded (a cleared text is sent
 * as null). Empty when nothing changed. */
export function changedFields(original: InstitutionFormModel, form: InstitutionFormModel): InstitutionUpdate {
  const body: Record<string, unknown> = {}
  for (const key of Object.keys(form) as (keyof InstitutionFormModel)[]) {
    const before = blankToNull(original[key])
    const raw = blankToNull(form[key])
    const after = typeof raw === 'string' ? raw.trim() : raw
    if (before !== after) body[key] = after
  }
  return body as InstitutionUpdate
}
