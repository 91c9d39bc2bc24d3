import { readFileSync } from 'node:fs'
import path from 'node:path'

import { describe, expect, it } from 'vitest'

import { enumLabel, enumOptions } from './labels'

// The committed OpenAPI document is the source of the labels: every enum schema's `x-enum-labels`.
const snapshot = JSON.parse(
  readFileSync(path.resolve(process.cwd(), '../tests/openapi/openapi_snapshot.json'), 'utf8'),
) as { components: { schemas: Record<string, { enum?: string[]; 'x-enum-labels'?: Record<string, string> }> } }

describe('enum labels', () => {
  it('labels a value as the contract does', () => {
    const labels = snapshot.components.schemas.AgreementState?.['x-enum-labels'] ?? {}
    expect(Object.keys(labels).length).toBeGreaterThan(0)
    for (const [value, label] of Object.entries(labels)) {
      expect(enumLabel('AgreementState', value)).toBe(label)
    }
    expect(enumLabel('AgreementState', 'active')).toBe('生效中')
  })

  it('covers every value of every labelled enum in the contract', () => {
    for (const [name, schema] of Object.entries(snapshot.components.schemas)) {
      if (!schema['x-enum-labels'] || !schema.enum) continue
      const options = enumOptions(name as Parameters<typeof enumOptions>[0])
      expect(options.map((option) => option.value).sort()).toEqual([...schema.enum].sort())
    }
  })

  it('shows an unknown value as itself and nothing for no value', () => {
    expect(enumLabel('AgreementState', 'archived_in_future')).toBe('archived_in_future')
    expect(enumLabel('AgreementState', null)).toBe('')
  })
})
