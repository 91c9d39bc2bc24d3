// RFC 9457 problem+json as the platform answers it (schema `Problem`), and the one error type every
// screen catches: `ApiError`. Branch on `error.code` (stable) after `instanceof ApiError`; show
// `error.detail` (the server's Chinese text) — never a message of our own that hides it.
import type { components } from './schema'

export type Problem = components['schemas']['Problem']
export type FieldError = components['schemas']['FieldError']

/** Field path → message, keyed as `el-form-item` `prop` paths (`name`, `beds.0.count`). */
export type FieldErrors = Record<string, string>

const STATUS_MESSAGES: Record<number, string> = {
  0: '网络连接失败，请检查网络后重试',
  400: '请求无效',
  401: '登录已过期，请重新登录',
  403: '无权执行此操作',
  404: '记录不存在或无权查看',
  409: '当前状态不允许此操作',
  412: '该记录已被他人修改，请重新加载后再操作',
  422: '填写的内容有误，请检查后重试',
  429: '操作过于频繁，请稍后再试',
  500: '服务器内部错误，请稍后再试',
  502: '上游服务不可用，请稍后再试',
  503: '服务暂不可用，请稍后再试',
  504: '上游服务响应超时，请稍后再试',
}

export function statusMessage(status: number): string {
  return STATUS_MESSAGES[status] ?? `请求失败（HTTP ${status}）`
}

export function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false
  const candidate = value as Record<string, unknown>
  return typeof candidate.status === 'number' && typeof candidate.code === 'string'
}

/** `body.beds.0.count` → `beds.0.count`; query and path parameters keep their prefix. */
export function fieldPath(field: string): string {
  return field.startsWith('body.') ? field.slice('body.'.length) : field
}

/** The problem's field errors as a map for `<el-form-item :error="fieldErrors[prop]">`; the first
 * message of a field wins (the server lists the most specific first). */
export function fieldErrorMap(problem: Pick<Problem, 'errors'> | null | undefined): FieldErrors {
  const map: FieldErrors = {}
  for (const error of problem?.errors ?? []) {
    const path = fieldPath(error.field)
    if (!(path in map)) map[path] = error.message
  }
  return map
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly detail: string
  readonly problem: Problem | null

  constructor(status: number, problem: Problem | null, fallbackDetail?: string) {
    const detail = problem?.detail || fallbackDetail || statusMessage(status)
    super(detail)
    this.name = 'ApiError'
    this.status = status
    this.code = problem?.code ?? (status === 0 ? 'network_error' : `http_${status}`)
    this.detail = detail
    this.problem = problem
  }

  /** Field errors for el-form (empty unless the server named fields, usually on 422). */
  fieldErrors(): FieldErrors {
    return fieldErrorMap(this.problem)
  }

  /** 412: the record changed since it was loaded (its ETag no longer matches). */
  get isPreconditionFailed(): boolean {
    return this.status === 412
  }

  /** The request id the server logged this failure under, for support. */
  get requestId(): string | null {
    return this.problem?.request_id ?? null
  }
}

/** Builds the ApiError for a non-2xx response, whatever its body (problem+json, other JSON, none). */
export async function apiErrorFromResponse(response: Response): Promise<ApiError> {
  let body: unknown = null
  try {
    body = await response.clone().json()
  } catch {
    body = null
  }
  return new ApiError(response.status, isProblem(body) ? body : null)
}

export function isPreconditionFailed(error: unknown): boolean {
  return error instanceof ApiError && error.isPreconditionFailed
}

/** A message for any thrown value (ApiError's Chinese detail, otherwise a generic text). */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.detail
  return '操作失败，请稍后再试'
}
