import { describe, expect, it } from 'vitest'

import { ApiError, apiErrorFromResponse, fieldErrorMap, isPreconditionFailed } from './problem'

// A 422 as the platform renders request validation (libs/common/errors.py): field paths are dotted
// and start with where the value came from (`body.`, `query.`).
const validation = {
  type: 'urn:yiyang:problem:validation_failed',
  title: '请求参数校验失败',
  status: 422,
  detail: '请求参数校验失败',
  code: 'validation_failed',
  errors: [
    { field: 'body.uscc', message: '统一社会信用代码格式不正确', code: 'value_error' },
    { field: 'body.beds.0.count', message: '床位数不能为负数', code: 'greater_than_equal' },
    { field: 'body.uscc', message: '第二条不应覆盖第一条', code: 'value_error' },
    { field: 'query.limit', message: '不能超过 200', code: 'less_than_equal' },
  ],
}

describe('problem+json', () => {
  it('maps field errors to el-form prop paths, first message per field', () => {
    expect(fieldErrorMap(validation)).toEqual({
      uscc: '统一社会信用代码格式不正确',
      'beds.0.count': '床位数不能为负数',
      'query.limit': '不能超过 200',
    })
  })

  it('builds an ApiError carrying the server code and Chinese detail', async () => {
    const response = new Response(JSON.stringify(validation), {
      status: 422,
      headers: { 'Content-Type': 'application/problem+json' },
    })
    const error = await apiErrorFromResponse(response)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(422)
    expect(error.code).toBe('validation_failed')
    expect(error.detail).toBe('请求参数校验失败')
    expect(error.fieldErrors().uscc).toBe('统一社会信用代码格式不正确')
    expect(error.isPreconditionFailed).toBe(false)
  })

  it('falls back to a Chinese status message when the body is not a problem', async () => {
    const error = await apiErrorFromResponse(new Response('<html>Bad Gateway</html>', { status: 502 }))
    expect(error.code).toBe('http_502')
    expect(error.detail).toBe('上游服务不可用，请稍后再试')
    expect(error.fieldErrors()).toEqual({})
  })

  it('detects 412 (the record changed since it was loaded)', () => {
    const stale = new ApiError(412, {
      type: 'urn:yiyang:problem:precondition_failed',
      title: '版本不一致',
      status: 412,
      detail: '该记录已被他人修改',
      code: 'precondition_failed',
    })
    expect(isPreconditionFailed(stale)).toBe(true)
    expect(isPreconditionFailed(new ApiError(409, null))).toBe(false)
    expect(isPreconditionFailed(new Error('x'))).toBe(false)
  })
})
