import { describe, expect, it } from 'vitest'

import { childrenOf, divisionName, isWithin, PINGTAN_CODE, regionGroups } from './divisions'

// Fujian: nine cities and 平潭综合实验区 are the ten city-level units (ARCHITECTURE.md, Regions).
describe('Fujian divisions', () => {
  it('puts ten city-level units under the province, 平潭 among them', () => {
    const units = childrenOf('350000')
    expect(units).toHaveLength(10)
    expect(units.map((d) => d.code)).toContain(PINGTAN_CODE)
    expect(divisionName(PINGTAN_CODE)).toBe('平潭综合实验区')
  })

  it('keeps 平潭 out of 福州 and out of its scope', () => {
    const fuzhou = childrenOf('350100').map((d) => d.code)
    expect(fuzhou).toContain('350102')
    expect(fuzhou).not.toContain(PINGTAN_CODE)
    expect(isWithin('350100', PINGTAN_CODE)).toBe(false)
    expect(isWithin('350000', PINGTAN_CODE)).toBe(true)
    expect(isWithin('350200', '350206')).toBe(true)
    expect(isWithin('350200', '350102')).toBe(false)
    expect(isWithin('350206', '350203')).toBe(false)
  })

  it('offers officials only the regions below them', () => {
    expect(regionGroups('350206')).toEqual([])
    expect(regionGroups(PINGTAN_CODE)).toEqual([])
    const xiamen = regionGroups('350200')
    expect(xiamen).toHaveLength(1)
    expect(xiamen[0]?.regions.map((r) => r.code)).toContain('350206')
    const province = regionGroups('350000')
    expect(province).toHaveLength(11)
    expect(province[0]?.code).toBe('350000')
  })
})
