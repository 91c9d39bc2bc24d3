import { describe, expect, it } from 'vitest'

import { lastDays, monthToDate, pickerDate, shanghaiDate } from './period'

describe('period', () => {
  it('reads the date in Asia/Shanghai, not in UTC', () => {
    // 2026-03-31 17:30 UTC is already 1 April in Fujian
    expect(shanghaiDate(new Date('2026-03-31T17:30:00Z'))).toBe('2026-04-01')
    expect(shanghaiDate(new Date('2026-03-31T15:59:00Z'))).toBe('2026-03-31')
  })

  it('month to date starts on the first of the Shanghai month', () => {
    expect(monthToDate(new Date('2026-03-31T17:30:00Z'))).toEqual({ start: '2026-04-01', end: '2026-04-01' })
    expect(monthToDate(new Date('2026-11-30T06:00:00Z'))).toEqual({ start: '2026-11-01', end: '2026-11-30' })
  })

  it('the last 90 days include today', () => {
    expect(lastDays(90, new Date('2026-03-31T04:00:00Z'))).toEqual({ start: '2026-01-01', end: '2026-03-31' })
  })
})

describe('pickerDate', () => {
  it('formats the local day the picker chose', () => {
    expect(pickerDate(new Date(2026, 0, 5))).toBe('2026-01-05')
  })
})
