// 账号管理 and the province's 接口客户端 and 护理服务目录 (issue 15). xm_admin creates a county admin for
// one of its districts under a username of its own (unique per run, so the flow never consumes demo
// data), sees it in the list, sees its initial password once, then deactivates it; prov_admin reads the
// API clients and the catalog (read-only).
import type { Page } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'

function answered(page: Page, path: string, method = 'GET') {
  return page.waitForResponse((r) => new URL(r.url()).pathname === path && r.request().method() === method)
}

test('xm_admin creates a county admin for 湖里区, sees it listed, then deactivates it', async ({ page }) => {
  const username = `e2e_huli_${Date.now().toString(36)}`
  await signIn(page, 'xm_admin')
  const listed = answered(page, '/api/v1/auth/users')
  await page.getByRole('menuitem', { name: '账号管理' }).click()
  const first = await listed
  expect(new URL(first.url()).searchParams.get('role')).toBe('county_admin')
  await expect(page.getByRole('cell', { name: 'huli_admin', exact: true })).toBeVisible()
  await shot(page, 'accounts-xm_admin')
  await checkA11y(page)

  await page.getByRole('button', { name: '新建账号' }).click()
  const dialog = page.getByRole('dialog', { name: '新建县（市、区）管理员账号' })
  await dialog.getByLabel('账号').fill(username)
  await dialog.getByLabel('姓名').fill('测试县级管理员')
  await dialog.getByRole('button', { name: '生成' }).click()
  const password = await dialog.getByLabel('初始密码').inputValue()
  expect(password).toHaveLength(14)
  await dialog.getByRole('combobox', { name: '行政区划' }).click()
  await page.getByRole('option', { name: '湖里区' }).click()
  const created = answered(page, '/api/v1/auth/users', 'POST')
  await dialog.getByRole('button', { name: '创建' }).click()
  const answer = await created
  expect(answer.status()).toBe(201)
  expect(answer.request().headers()['idempotency-key']).toBeTruthy()

  // the initial password, shown once for the handover
  const handover = page.getByRole('dialog', { name: '账号已创建' })
  await expect(handover.getByTestId('handover-username')).toHaveText(username)
  await expect(handover.getByTestId('handover-password')).toHaveText(password)
  await shot(page, 'accounts-created')
  await handover.getByRole('button', { name: '我已妥善保存' }).click()
  await expect(handover).toBeHidden()

  const row = page.getByRole('row').filter({ hasText: username })
  await expect(row).toBeVisible()
  await expect(row.getByText('启用')).toBeVisible()
  await expect(row.getByText('湖里区')).toBeVisible()

  // 停用: confirmed, sent with If-Match
  await row.getByRole('button', { name: `停用 ${username}` }).click()
  const deactivated = page.waitForResponse((r) => r.url().endsWith('/deactivate') && r.request().method() === 'POST')
  await page.getByRole('dialog', { name: '停用账号' }).getByRole('button', { name: '停用' }).click()
  const done = await deactivated
  expect(done.status()).toBe(200)
  expect(done.request().headers()['if-match']).toBeTruthy()
  await expect(row.getByText('已停用')).toBeVisible()
  await expect(row.getByRole('button', { name: `启用 ${username}` })).toBeVisible()
  await shot(page, 'accounts-deactivated')
})

test('prov_admin sees the API clients of the city platforms and the nursing catalog', async ({ page }) => {
  await signIn(page, 'prov_admin')
  const clients = answered(page, '/api/v1/auth/clients')
  await page.getByRole('menuitem', { name: '接口客户端' }).click()
  expect((await clients).status()).toBe(200)
  await expect(page.getByRole('cell', { name: 'xm_city_platform', exact: true })).toBeVisible()
  await expect(page.getByRole('button', { name: '新建客户端' })).toBeVisible()
  await shot(page, 'api-clients-prov_admin')
  await checkA11y(page)

  const versions = answered(page, '/api/v1/homecare/catalog/versions')
  const current = answered(page, '/api/v1/homecare/catalog')
  await page.getByRole('menuitem', { name: '护理服务目录' }).click()
  expect((await versions).status()).toBe(200)
  const catalog = (await (await current).json()) as { version: { code: string }; items: { name: string }[] }
  await expect(page.getByRole('heading', { name: new RegExp(`目录项目：${catalog.version.code}（现行）`) })).toBeVisible()
  await expect(page.getByTestId('catalog-items').getByRole('cell', { name: catalog.items[0]?.name ?? '—', exact: true })).toBeVisible()
  await expect(page.getByRole('button', { name: '导入新版本' })).toBeVisible()
  await shot(page, 'catalog-prov_admin')
  await checkA11y(page)
})

test('xm_admin has no API clients menu and no catalog import', async ({ page }) => {
  await signIn(page, 'xm_admin')
  await expect(page.getByRole('menuitem', { name: '账号管理' })).toBeVisible()
  await expect(page.getByRole('menuitem', { name: '接口客户端' })).toHaveCount(0)
})
