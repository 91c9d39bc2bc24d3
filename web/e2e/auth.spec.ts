// Signing in and out of the console, the session kept across a reload (the refresh cookie), the 404
// page, and axe on the log-in and home pages (issue 15).
import { request as apiRequest } from '@playwright/test'

import { checkA11y, expect, expectProblem, shot, signIn, test } from './fixtures'
import { GATEWAY } from './stack'

const REFRESH = '/api/v1/auth/session/refresh'

test('prov_admin signs in, sees the home page, signs out; the old session is revoked', async ({ page, context }) => {
  // opening the console without a session lands on the log-in page
  await page.goto('/')
  await expect(page).toHaveURL(/\/login/)
  await shot(page, 'login')

  await signIn(page, 'prov_admin')
  await expect(page.getByText('省卫健委管理员').first()).toBeVisible()
  await shot(page, 'home-prov_admin')

  const cookies = await context.cookies()
  const refresh = cookies.find((c) => c.name === 'yy_refresh')
  const csrf = cookies.find((c) => c.name === 'yy_csrf')
  expect(refresh?.httpOnly, 'the refresh cookie is HttpOnly').toBe(true)
  expect(csrf, 'the CSRF cookie is set').toBeDefined()

  await page.getByRole('button', { name: '退出登录' }).click()
  await expect(page).toHaveURL(/\/login/)
  await page.reload()
  await expect(page).toHaveURL(/\/login/)
  await expect(page.getByRole('button', { name: '登录' })).toBeVisible()

  // the refresh cookie of the signed-out session no longer gives a token (revoked on the server)
  const api = await apiRequest.newContext({ baseURL: GATEWAY })
  const replay = await api.post(REFRESH, {
    headers: { Cookie: `yy_refresh=${refresh?.value}; yy_csrf=${csrf?.value}`, 'X-CSRF-Token': csrf?.value ?? '' },
  })
  expect(replay.status()).toBe(401)
  await api.dispose()
})

test('a wrong password is refused with the reason, and the page stays on the log-in form', async ({ page }) => {
  expectProblem(page, 401, 'invalid_grant')
  await page.goto('/login')
  await page.getByLabel('账号').fill('fz_admin')
  await page.getByLabel('密码').fill('not-the-password')
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page.getByRole('alert')).toContainText('登录未成功')
  await expect(page).toHaveURL(/\/login/)
  await shot(page, 'login-refused')
})

test('a reload keeps the session: the console refreshes silently with its cookie', async ({ page }) => {
  await signIn(page, 'prov_admin')
  const refreshed = page.waitForResponse((r) => r.url().endsWith(REFRESH) && r.request().method() === 'POST')
  await page.reload()
  expect((await refreshed).status()).toBe(200)
  await expect(page).not.toHaveURL(/\/login/)
  await expect(page.getByText('省卫健委管理员').first()).toBeVisible()
})

test('an unknown console path shows the 404 page', async ({ page }) => {
  await signIn(page, 'prov_admin')
  await page.goto('/no-such-page/here')
  await expect(page.getByText('页面不存在').first()).toBeVisible()
  await shot(page, 'not-found')
})

test('the log-in page passes axe', async ({ page }) => {
  await page.goto('/login')
  await expect(page.getByRole('button', { name: '登录' })).toBeVisible()
  await checkA11y(page)
})

test('the home page passes axe', async ({ page }) => {
  await signIn(page, 'prov_admin')
  await expect(page.getByText('省卫健委管理员').first()).toBeVisible()
  await checkA11y(page)
})
