import { describe, expect, it } from 'vitest'

import { parentRegion, regionTrail, regionWithin } from './drill'

describe('drill-down path', () => {
  it('goes province → city → county', () => {
    expect(regionTrail('350000', '350203').map((s) => s.name)).toEqual(['福建省', '厦门市', '思明区'])
    expect(regionTrail('350000', '350000').map((s) => s.code)).toEqual(['350000'])
    expect(regionTrail('350200', '350206').map((s) => s.name)).toEqual(['厦门市', '湖里区'])
  })

  it('puts 平潭综合实验区 directly under the province, not under 福州', () => {
    expect(parentRegion('350128')).toBe('350000')
    expect(regionTrail('350000', '350128').map((s) => s.name)).toEqual(['福建省', '平潭综合实验区'])
    expect(parentRegion('350102')).toBe('350100')
    expect(parentRegion('350000')).toBeNull()
  })

  it('keeps a region from the address bar only within the caller’s', () => {
    expect(regionWithin('350000', '350203')).toBe('350203')
    expect(regionWithin('350200', '350102')).toBeNull()
    expect(regionWithin('350100', '350128')).toBeNull()
    expect(regionWithin('350000', '359999')).toBeNull()
    expect(regionWithin('350000', ['350203'])).toBeNull()
    expect(regionWithin(null, '350203')).toBeNull()
    expect(regionTrail('350200', '350102').map((s) => s.code)).toEqual(['350200'])
  })
})
