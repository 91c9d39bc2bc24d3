// The residents menu by role, from the service's permission table (services/residents/permissions.py):
// officials read (statistics, persons, 失能 services), a primary-care institution's users also sign.
import { describe, expect, it } from 'vitest'

import { buildMenu } from '@/router/menu'

import routes from './routes'

const READ = ['persons:read', 'teams:read', 'packages:read', 'signings:read', 'checkups:read', 'assessments:read', 'care_services:read']
const OFFICIAL = new Set([...READ, 'changes:read'].map((p) => `residents:${p}`))
const STAFF = new Set([...READ, 'persons:write', 'signings:write', 'checkups:write', 'assessments:write', 'care_services:write'].map((p) => `residents:${p}`))

function paths(held: Set<string>): string[] {
  return buildMenu(routes, (p) => p === undefined || held.has(p)).flatMap((group) => group.children.map((c) => c.path))
}

describe('residents menu', () => {
  it('gives officials the statistics, the masked persons and the 失能 services, not the desk', () => {
    expect(paths(OFFICIAL)).toEqual(['/residents/overview', '/residents/persons', '/residents/care'])
  })

  it('gives an institution user the desk as well', () => {
    expect(paths(STAFF)).toEqual(['/residents/overview', '/residents/persons', '/residents/care', '/residents/desk'])
  })

  it('shows nothing to a caller without the service', () => {
    expect(paths(new Set(['registry:institutions:read']))).toEqual([])
  })
})
