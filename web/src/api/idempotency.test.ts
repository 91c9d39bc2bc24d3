import { describe, expect, it } from 'vitest'

import { useSubmitKey } from './idempotency'

describe('useSubmitKey', () => {
  it('reuses the key while the same body is submitted again (double click, retry)', () => {
    const submit = useSubmitKey()
    const body = { name: '厦门市湖里区康乐养护院', beds: 120 }
    const first = submit.keyFor(body)
    expect(first).toMatch(/^[0-9a-f-]{36}$/)
    expect(submit.keyFor({ ...body })).toBe(first)
    expect(submit.headers(body)).toEqual({ 'Idempotency-Key': first })
  })

  it('makes a new key when the body changed (the server rejects a known key with another body)', () => {
    const submit = useSubmitKey()
    const first = submit.keyFor({ name: 'A' })
    const second = submit.keyFor({ name: 'B' })
    expect(second).not.toBe(first)
    expect(submit.keyFor({ name: 'B' })).toBe(second)
  })

  it('makes a new key after a success, for the next record', () => {
    const submit = useSubmitKey()
    const first = submit.keyFor({ name: 'A' })
    submit.settle()
    expect(submit.keyFor({ name: 'A' })).not.toBe(first)
  })

  it('gives separate forms separate keys', () => {
    expect(useSubmitKey().keyFor({})).not.toBe(useSubmitKey().keyFor({}))
  })
})
