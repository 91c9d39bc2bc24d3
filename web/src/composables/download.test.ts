import { describe, expect, it } from 'vitest'

import { filenameFromDisposition } from './download'

describe('filenameFromDisposition', () => {
  it('prefers the UTF-8 extended parameter (Chinese names)', () => {
    const header = `attachment; filename="institutions.xlsx"; filename*=UTF-8''${encodeURIComponent('机构名录-350206.xlsx')}`
    expect(filenameFromDisposition(header, 'x')).toBe('机构名录-350206.xlsx')
  })

  it('reads a quoted or bare plain filename', () => {
    expect(filenameFromDisposition('attachment; filename="a b.csv"', 'x')).toBe('a b.csv')
    expect(filenameFromDisposition('attachment; filename=report.xlsx', 'x')).toBe('report.xlsx')
  })

  it('falls back when the header is missing or names no file', () => {
    expect(filenameFromDisposition(null, 'export.xlsx')).toBe('export.xlsx')
    expect(filenameFromDisposition('attachment', 'export.xlsx')).toBe('export.xlsx')
  })

  it('falls back to the plain name when the extended one is malformed', () => {
    expect(filenameFromDisposition(`attachment; filename="ok.csv"; filename*=UTF-8''%E6%9C`, 'x')).toBe('ok.csv')
  })
})
