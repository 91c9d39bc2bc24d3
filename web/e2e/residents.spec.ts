// 家庭医生签约与健康管理 (issue 19) in the browser against the demo stack (湖里 residents seeded by
// demo/residents.py): 湖里's county official reads the signing and renewal figures and the person index
// with ID numbers masked; a user of one of 湖里's primary-care institutions (an institution admin the
// county official creates for the run — the demo accounts are at hospitals and homes) registers a new
// resident, signs them to the institution's team, is refused a second contract with the service's
// Chinese message, and records an ability assessment whose level the service computes.
import { request as apiRequest, type APIRequestContext, type Locator, type Page } from '@playwright/test'

import { checkA11y, expect, expectProblem, shot, signIn, test } from './fixtures'
import { GATEWAY, PASSWORD } from './stack'

async function as(username: string): Promise<APIRequestContext> {
  const anonymous = await apiRequest.newContext({ baseURL: GATEWAY })
  const session = await anonymous.post('/api/v1/auth/session', { data: { username, password: PASSWORD } })
  expect(session.status()).toBe(200)
  const { access_token: token } = (await session.json()) as { access_token: string }
  await anonymous.dispose()
  return apiRequest.newContext({ baseURL: GATEWAY, extraHTTPHeaders: { Authorization: `Bearer ${token}` } })
}

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]

/** A valid 居民身份证号 (GB 11643 check character) of someone born in the 1940s in 湖里区, new each run. */
function newIdNumber(): string {
  const birth = `194${Math.floor(Math.random() * 10)}0${1 + Math.floor(Math.random() * 9)}1${Math.floor(Math.random() * 9)}`
  const body = `350206${birth}${String(Math.floor(Math.random() * 1000)).padStart(3, '0')}`
  const sum = [...body].reduce((total, digit, i) => total + Number(digit) * (WEIGHTS[i] ?? 0), 0)
  return body + '10X98765432'.charAt(sum % 11)
}

/** Signs in, lets the log-in page's own requests finish (a navigation would abort them), opens `path`. */
async function signInAt(page: Page, username: string, path: string): Promise<void> {
  await signIn(page, username)
  await page.waitForLoadState('networkidle')
  await page.goto(path)
}

/** An Element Plus select by its accessible name (its placeholder layer takes the pointer, not the input). */
function selectOf(page: Page, name: string): Locator {
  return page.locator('.el-select', { has: page.getByRole('combobox', { name }) })
}

test('湖里 county official reads the signing and renewal figures and masked persons', async ({ page }) => {
  await signInAt(page, 'huli_admin', '/residents/overview')
  await expect(page.getByRole('heading', { name: '签约与健康管理统计' })).toBeVisible()
  const rates = page.getByTestId('signing-rates')
  const huli = rates.getByRole('row').filter({ hasText: '湖里区' })
  await expect(huli).toBeVisible()
  await expect(huli).toContainText(/\d+\.\d{2}%/) // the 续签率 of the demo's renewals
  await expect(page.getByTestId('checkup-summary').getByRole('row').filter({ hasText: '湖里区' })).toContainText('%')
  await checkA11y(page)
  await shot(page, 'residents-overview-huli_admin')

  await page.getByRole('menuitem', { name: '居民名单' }).click()
  const first = page.getByTestId('persons').locator('tbody tr').first()
  await expect(first).toBeVisible()
  await expect(first).toContainText(/350206\*{8}[0-9X]{4}/) // never a whole ID number for an official
  await checkA11y(page)
})

test('a primary-care institution signs a resident once, then records an assessment', async ({ page }) => {
  test.setTimeout(60_000) // an account, a sign-in and five writes on a shared machine
  const huli = await as('huli_admin')
  const listed = await huli.get('/api/v1/residents/teams', { params: { active: true, limit: 50 } })
  expect(listed.status()).toBe(200)
  const { items: teams } = (await listed.json()) as { items: { institution_id: string; name: string }[] }
  const team = teams[0]
  if (!team) throw new Error('演示数据中湖里区没有在用的家庭医生团队')
  const run = crypto.randomUUID().slice(0, 8)
  const username = `e2eres_${run}`
  const account = await huli.post('/api/v1/auth/users', {
    headers: { 'Idempotency-Key': crypto.randomUUID() },
    data: { username, display_name: `签约测试 ${run}`, password: PASSWORD, role: 'institution_admin', institution_id: team.institution_id },
  })
  expect(account.status(), await account.text()).toBe(201)
  await huli.dispose()

  await signInAt(page, username, '/residents/desk')
  await expect(page.getByTestId('teams')).toContainText(team.name)
  await page.getByLabel('姓名').fill(`测试居民${run.slice(0, 4)}`)
  await page.getByLabel('身份证号').fill(newIdNumber())
  await page.getByRole('button', { name: '登记或查找' }).click()
  await expect(page.getByTestId('person')).toBeVisible()

  await selectOf(page, '签约团队').click()
  await page.getByRole('option', { name: team.name }).click()
  await selectOf(page, '服务包').click()
  await page.getByRole('option').filter({ hasText: '元' }).first().click()
  await page.getByRole('button', { name: '签约', exact: true }).click()
  await expect(page.getByTestId('signing')).toContainText('已签约')

  expectProblem(page, 409, 'active_signing_exists')
  await page.getByRole('button', { name: '签约', exact: true }).click()
  await expect(page.getByRole('alert').filter({ hasText: '签约未成功' })).toContainText('该居民已有履约中的家庭医生签约')

  // every item at its maximum (90) except the eight 自理能力 items at 0: 58, 能力中度受损 (46–65)
  const zero = new Set(['进食', '修饰', '洗澡', '穿/脱上衣', '穿/脱裤子和鞋袜', '小便控制', '大便控制', '如厕'])
  const inputs = page.getByRole('spinbutton', { name: /分）$/ })
  const count = await inputs.count()
  expect(count).toBeGreaterThan(0)
  let expected = 0
  for (let i = 0; i < count; i += 1) {
    const input = inputs.nth(i)
    const label = (await input.getAttribute('aria-label')) ?? ''
    const max = Number(/0–(\d+) 分）$/.exec(label)?.[1] ?? '0')
    const score = zero.has(label.replace(/（.*$/, '')) ? 0 : max
    expected += score
    await input.fill(String(score))
    await input.blur()
  }
  await expect(page.getByTestId('assessment-preview')).toContainText(`已录入总分 ${expected}`)
  await page.getByRole('button', { name: '提交评估' }).click()
  const result = page.getByTestId('assessment')
  await expect(result).toContainText(`评估总分 ${expected}`)
  await expect(result).toContainText('能力中度受损')
  await checkA11y(page)
  await shot(page, 'residents-desk')
})
