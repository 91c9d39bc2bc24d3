import { describe, expect, it } from 'vitest'

import { importRows, rejectedRows } from './importRows'

const base = { index: 0, external_id: null, errors: [], warnings: [] }

describe('import rows', () => {
  it('explains a row by its reason, field errors and warnings', () => {
    const rows = importRows([
      { ...base, line: 2, outcome: 'created', warnings: ['登记号与类别代码不一致'] },
      {
        ...base,
        index: 1,
        line: 3,
        outcome: 'rejected',
        code: 'validation_error',
        detail: '3 行：内容有误',
        errors: [{ field: 'rows.3.uscc', message: '统一社会信用代码校验位错误', code: 'value_error' }],
      },
    ])
    expect(rows).toEqual([
      { line: 2, outcome: 'created', note: '提示：登记号与类别代码不一致' },
      { line: 3, outcome: 'rejected', note: '3 行：内容有误；统一社会信用代码校验位错误' },
    ])
  })

  it('reads the bad rows of an import_rejected problem and ignores what is not a row', () => {
    const extra = {
      total: 3,
      results: [{ ...base, line: 4, outcome: 'rejected', detail: '机构名称必填' }, { line: 'x' }, null],
    }
    expect(rejectedRows(extra)).toEqual([{ line: 4, outcome: 'rejected', note: '机构名称必填' }])
    expect(rejectedRows(null)).toEqual([])
    expect(rejectedRows({ results: 'no' })).toEqual([])
  })
})
