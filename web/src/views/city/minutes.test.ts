import { describe, expect, it } from 'vitest'

import { formatMinutes } from './minutes'

describe('formatMinutes', () => {
  it.each([
    [null, '—'],
    [0, '0 分'],
    [42.4, '42 分'],
    [59.6, '1 小时'],
    [95.5, '1 小时 36 分'],
    [1440, '1 天'],
    [3060, '2 天 3 小时'],
  ])('%s → %s', (minutes, text) => {
    expect(formatMinutes(minutes)).toBe(text)
  })
})
