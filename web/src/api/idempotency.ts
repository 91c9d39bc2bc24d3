// Idempotency-Key for POSTs. The client's middleware adds a fresh key to any POST that has none; a form
// uses `useSubmitKey()` so that a double click or a retry after a lost answer sends the SAME key (the
// server replays the first answer instead of creating twice), while an edited form gets a new key (the
// server answers 422 to a known key with another body).

export function newIdempotencyKey(): string {
  return crypto.randomUUID()
}

export interface SubmitKey {
  /** The key for this body: the previous key while the body is unchanged, a new one otherwise. */
  keyFor(body: unknown): string
  /** Headers to pass as `headers:` to `api.POST(…)`. */
  headers(body: unknown): { 'Idempotency-Key': string }
  /** After a success: the next submit (another record) gets a new key. */
  settle(): void
}

export function useSubmitKey(): SubmitKey {
  let key: string | null = null
  let sentBody: string | null = null
  const keyFor = (body: unknown): string => {
    const serialized = JSON.stringify(body ?? null)
    if (key === null || serialized !== sentBody) {
      key = newIdempotencyKey()
      sentBody = serialized
    }
    return key
  }
  return {
    keyFor,
    headers: (body) => ({ 'Idempotency-Key': keyFor(body) }),
    settle: () => {
      key = null
      sentBody = null
    },
  }
}
