// One function per ladder step through the typed client (each path is its own operation in the OpenAPI
// document): If-Match from the loaded application's ETag, the form's Idempotency-Key on POSTs.
import { api, ifMatch, unwrap } from '@/api/client'
import type { components } from '@/api/schema'

import type { Application, LadderAction, StepBody } from './ladder'

type S = components['schemas']
const BASE = '/api/v1/registry/demonstration-applications/{application_id}' as const

export async function performStep(
  applicationId: string,
  action: LadderAction,
  body: StepBody,
  etag: string,
  idempotencyKey: string,
): Promise<Application> {
  const params = { path: { application_id: applicationId }, header: ifMatch(etag) }
  const headers = { 'Idempotency-Key': idempotencyKey }
  switch (action) {
    case 'submit':
      return unwrap(api.POST(`${BASE}/submit`, { params, headers }))
    case 'county-recommend':
      return unwrap(api.POST(`${BASE}/county-recommend`, { params, headers, body: body as S['OpinionBody'] }))
    case 'city-recommend':
      return unwrap(api.POST(`${BASE}/city-recommend`, { params, headers, body: body as S['OpinionBody'] }))
    case 'province-approve':
      return unwrap(
        api.POST(`${BASE}/province-approve`, { params, headers, body: body as S['ProvinceApproveBody'] }),
      )
    case 'send-to-nation':
      return unwrap(api.POST(`${BASE}/send-to-nation`, { params, headers, body: body as S['SendToNationBody'] }))
    case 'national-result':
      return unwrap(
        api.POST(`${BASE}/national-result`, { params, headers, body: body as S['NationalResultBody'] }),
      )
    case 'name':
      return unwrap(api.POST(`${BASE}/name`, { params, headers, body: body as S['NameBody'] }))
    case 'reassess':
      return unwrap(api.POST(`${BASE}/reassess`, { params, headers, body: body as S['ReassessBody'] }))
    case 'revoke':
      return unwrap(api.POST(`${BASE}/revoke`, { params, headers, body: body as S['ReasonBody'] }))
    case 'return':
      return unwrap(api.POST(`${BASE}/return`, { params, headers, body: body as S['ReasonBody'] }))
    case 'decline':
      return unwrap(api.POST(`${BASE}/decline`, { params, headers, body: body as S['ReasonBody'] }))
  }
}
