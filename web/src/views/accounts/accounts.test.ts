import { describe, expect, it } from 'vitest'

import { generatePassword, listRegion, managedRole, placementOf, regionChoices } from './accounts'

describe('managed accounts (the gateway grants: each level the level below)', () => {
  it.each([
    ['province_admin', 'city_admin'],
    ['city_admin', 'county_admin'],
    ['county_admin', 'institution_admin'],
    ['institution_admin', 'institution_staff'],
    ['institution_staff', null],
    ['city_platform', null],
    [undefined, null],
  ])('%s manages %s', (role, managed) => {
    expect(managedRole(role)).toBe(managed)
  })

  it('a new admin of a region needs a region, an institution admin an institution', () => {
    expect(placementOf('county_admin')).toBe('region')
    expect(placementOf('institution_admin')).toBe('institution')
    expect(placementOf('institution_staff')).toBe('own_institution')
  })
})

describe('regionChoices', () => {
  it('the province gives city admins one of the ten city-level units, 平潭 included', () => {
    const choices = regionChoices('350000')
    expect(choices).toHaveLength(10)
    expect(choices.map((c) => c.code)).toContain('350128')
    expect(choices.find((c) => c.code === '350128')?.name).toBe('平潭综合实验区')
  })

  it('厦门 gives county admins its six districts; 福州 does not include 平潭', () => {
    expect(regionChoices('350200').map((c) => c.code)).toEqual(['350203', '350205', '350206', '350211', '350212', '350213'])
    expect(regionChoices('350100').map((c) => c.code)).not.toContain('350128')
  })
})

describe('listRegion', () => {
  it('lists the city admins of the city of a chosen county', () => {
    expect(listRegion('city_admin', '350206')).toBe('350200')
    expect(listRegion('city_admin', '350128')).toBe('350128')
    expect(listRegion('city_admin', '350200')).toBe('350200')
    expect(listRegion('county_admin', '350206')).toBe('350206')
    expect(listRegion('county_admin', undefined)).toBeUndefined()
  })
})

describe('generatePassword', () => {
  it('has 14 characters of all four classes and differs each time', () => {
    const first = generatePassword()
    expect(first).toHaveLength(14)
    expect(first).toMatch(/[a-z]/)
    expect(first).toMatch(/[A-Z]/)
    expect(first).toMatch(/[0-9]/)
    expect(first).toMatch(/[^a-zA-Z0-9]/)
    expect(generatePassword()).not.toBe(first)
  })
})
