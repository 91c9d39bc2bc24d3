// 派单调度 (issue 15): 厦门新开元医院's admin takes an order of its own making (placed and assessed through
// the API for this flow, in a window of its own, so no demo order is consumed), accepts it, and on the
// board tries 王丽 (护士, 2 years: not eligible for home visits) — refused, the service's reason shown
// next to her — then 林晓燕 (主管护师, 8 years), qualified and free: assigned.
import { request as apiRequest, type APIRequestContext } from '@playwright/test'

import { checkA11y, expect, expectProblem, shot, signIn, test } from './fixtures'
import { GATEWAY, PASSWORD } from './stack'

// Chrome fetches the favicon after each page load and aborts it when the test navigates on at once
// (sign-out, goto), which the fixture counts as a failed request; it is not under test here: answered
// at once from the test.
test.beforeEach(async ({ page }) => {
  await page.route('**/assets/favicon-*', (route) =>
    route.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }),
  )
})

const CHEN_XIUYING_ID_NUMBER = '350206193808120025' // demo recipient of 厦门新开元医院 (born 1938: 高龄)

async function asAdmin(): Promise<APIRequestContext> {
  const anonymous = await apiRequest.newContext({ baseURL: GATEWAY })
  const session = await anonymous.post('/api/v1/auth/session', {
    data: { username: 'xinkaiyuan_admin', password: PASSWORD },
  })
  expect(session.status()).toBe(200)
  const { access_token: token } = (await session.json()) as { access_token: string }
  await anonymous.dispose()
  return apiRequest.newContext({ baseURL: GATEWAY, extraHTTPHeaders: { Authorization: `Bearer ${token}` } })
}

/** A day between 40 and 400 days ahead (Beijing date), different on each run against a kept stack. */
function futureDay(): string {
  const days = 40 + Math.floor(Math.random() * 360)
  return new Date(Date.now() + days * 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' })
}

test('an institution dispatches an order: an unqualified nurse is refused with the reason, a qualified free one is assigned', async ({ page }) => {
  test.setTimeout(45_000)
  const day = futureDay()
  const api = await asAdmin()
  const found = await api.post('/api/v1/homecare/recipients/lookup', {
    data: { id_number: CHEN_XIUYING_ID_NUMBER },
    headers: { 'Idempotency-Key': crypto.randomUUID() },
  })
  expect(found.status()).toBe(200)
  const [recipient] = (await found.json()) as { id: string }[]
  const placed = await api.post('/api/v1/homecare/orders', {
    data: {
      recipient_id: recipient?.id,
      item_codes: ['HC01'],
      window_start: `${day}T14:00:00+08:00`,
      window_end: `${day}T15:00:00+08:00`,
      note: '浏览器测试订单',
    },
    headers: { 'Idempotency-Key': crypto.randomUUID() },
  })
  expect(placed.status()).toBe(201)
  const order = (await placed.json()) as { id: string; version: number }
  const assessed = await api.post(`/api/v1/homecare/orders/${order.id}/assess`, {
    data: { service_group: 'very_old', note: '生命体征平稳，可居家上门服务' },
    headers: { 'Idempotency-Key': crypto.randomUUID(), 'If-Match': `"${order.version}"` },
  })
  expect(assessed.status()).toBe(200)
  await api.dispose()

  await signIn(page, 'xinkaiyuan_admin')
  await page.goto('/homecare/dispatch')
  await page.locator('.queues').getByText('待受理', { exact: true }).click()
  const row = page.locator('.orders .el-table__row', { hasText: `${day} 14:00–15:00` })
  await expect(row).toBeVisible()
  await shot(page, 'dispatch-to-accept')
  await checkA11y(page)
  const accepted = page.waitForResponse((r) => r.url().endsWith(`/orders/${order.id}/accept`))
  await row.getByRole('button', { name: '受理' }).click()
  expect((await accepted).status()).toBe(200)

  await page.locator('.queues').getByText('待派单', { exact: true }).click()
  await expect(row).toBeVisible()
  await row.getByRole('button', { name: '派单' }).click()
  const board = page.getByRole('dialog', { name: '选择上门护士' })
  const wangLi = board.locator('.el-table__row', { hasText: '王丽' })
  const linXiaoyan = board.locator('.el-table__row', { hasText: '林晓燕' })
  await expect(wangLi).toContainText('不具备上门护理资格')
  await expect(linXiaoyan).toContainText('符合')
  await expect(linXiaoyan).toContainText('空闲')
  await shot(page, 'dispatch-board')
  await checkA11y(page)

  // the preview says no; the service is asked anyway and its refusal is shown next to her
  expectProblem(page, 422, 'nurse_not_eligible')
  const refused = page.waitForResponse((r) => r.url().endsWith(`/orders/${order.id}/assign`))
  await wangLi.getByRole('button', { name: '派给王丽' }).click()
  expect((await refused).status()).toBe(422)
  await expect(wangLi.getByRole('alert')).toContainText('未派单：该护士不具备上门护理资格')
  await shot(page, 'dispatch-refused')

  const assigned = page.waitForResponse((r) => r.url().endsWith(`/orders/${order.id}/assign`))
  await linXiaoyan.getByRole('button', { name: '派给林晓燕' }).click()
  expect((await assigned).status()).toBe(200)
  await expect(board).toBeHidden()
  await page.locator('.queues').getByText('已派单', { exact: true }).click()
  await expect(page.locator('.orders .el-table__row', { hasText: `${day} 14:00–15:00` })).toContainText('林晓燕')
  await shot(page, 'dispatch-assigned')
})

test('the alarms, location flags and complaints queues of an institution', async ({ page }) => {
  await signIn(page, 'xinkaiyuan_admin')
  await page.goto('/homecare/alerts')
  await expect(page.getByRole('heading', { level: 1, name: '报警与投诉' })).toBeVisible()
  await expect(page.locator('.page-state[aria-busy="false"]').first()).toBeVisible()
  await shot(page, 'homecare-alerts')
  await checkA11y(page)
  await page.getByRole('tab', { name: '待处理投诉' }).click()
  await expect(page.locator('.el-tab-pane:visible .page-state[aria-busy="false"]')).toBeVisible()
  await shot(page, 'homecare-complaints')
})
