// Chinese display labels of the API's enums. gen:api copies every enum schema's `x-enum-labels` into
// enum-labels.json (openapi-typescript drops them); screens use `enumLabel` for table cells and
// `enumOptions` for selects, never labels of their own.
import labels from './enum-labels.json'

export type EnumSchemaName = keyof typeof labels

const table: Record<string, Record<string, string> | undefined> = labels

/** The label of one value, e.g. `enumLabel('AgreementState', 'active')` → 生效中. An unknown value
 * (a newer server) shows as itself rather than as an empty cell. */
export function enumLabel(schema: EnumSchemaName, value: string | null | undefined): string {
  if (value === null || value === undefined) return ''
  return table[schema]?.[value] ?? value
}

export interface EnumOption {
  value: string
  label: string
}

/** `{ value, label }` for every value of an enum, in the order of the schema's labels. */
export function enumOptions(schema: EnumSchemaName): EnumOption[] {
  return Object.entries(table[schema] ?? {}).map(([value, label]) => ({ value, label }))
}
