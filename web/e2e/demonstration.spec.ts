// 示范创建 (issue 15): an application climbs the ladder across the officials' accounts, and the province
// downloads the 推荐汇总表 under the server's file name. Uses batch 2's 湖里区 (the demo leaves it
// city-recommended, waiting for the province): the province returns it to 厦门市 (a province return
// reopens the city's recommendation), xm_admin recommends it again, the province records its review
// and approves it. 南安市 is left waiting for other flows.
import type { Page } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'

// Chrome fetches the favicon after each page load and aborts it when the test navigates on at once
// (sign-out, goto), which the fixture counts as a failed request; it is not under test here: answered
// at once from the test.
test.beforeEach(async ({ page }) => {
  await page.route('**/assets/favicon-*', (route) =>
    route.fulfill({ contentType: 'image/svg+xml', body: '<svg xmlns="http://www.w3.org/2000/svg"/>' }),
  )
})

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: '退出登录' }).click()
  await expect(page).toHaveURL(/\/login/)
}

async function step(page: Page, action: string, field: string | null, text: string): Promise<void> {
  await page.getByRole('button', { name: action, exact: true }).click()
  const dialog = page.getByRole('dialog', { name: action })
  if (field) await dialog.getByLabel(field).fill(text)
  const answered = page.waitForResponse((r) => r.request().method() === 'POST' && r.url().includes('/demonstration-applications/'))
  await dialog.getByRole('button', { name: `确认${action}` }).click()
  expect((await answered).status()).toBe(200)
  await expect(dialog).toBeHidden()
}

test('a 示范 application climbs the ladder: province return → city recommend → province review and approval; 推荐汇总表', async ({ page }) => {
  test.setTimeout(120_000) // four sign-ins and seven writes: 58.7 s measured with the machine at load ~18
  // the province sees what waits for it
  await signIn(page, 'prov_admin')
  await page.goto('/demonstration/applications')
  await page.getByRole('button', { name: '待本级办理：市级已推荐' }).click()
  const row = page
    .locator('.applications .el-table__row', { has: page.getByRole('link', { name: '湖里区', exact: true }) })
    .filter({ hasText: '市级已推荐' })
  await expect(row).toBeVisible()
  await shot(page, 'demonstration-list-province')
  await page.mouse.move(0, 0) // the hovered primary button's lighter blue is the theme's (reported), not this page's
  await checkA11y(page)

  await row.getByRole('link', { name: /湖里区/ }).click()
  await expect(page.getByRole('heading', { level: 1, name: /湖里区/ })).toBeVisible()
  const url = page.url()
  await expect(page.getByRole('button', { name: '省级评审通过', exact: true })).toBeVisible()
  await shot(page, 'demonstration-detail-province')
  await checkA11y(page)

  // 1. the province returns it to the city
  await step(page, '退回', '理由', '请市级补充湖里区家庭病床服务数据后重新推荐。')
  await expect(page.getByText('当前办理：厦门市卫生健康委员会')).toBeVisible()
  await expect(page.getByText(/被退回：请市级补充/)).toBeVisible()
  await signOut(page)

  // 2. the city recommends it again
  await signIn(page, 'xm_admin')
  await page.goto(url)
  await expect(page.getByRole('heading', { level: 1, name: /湖里区/ })).toBeVisible()
  await expect(page.getByRole('button', { name: '省级评审通过', exact: true })).toHaveCount(0)
  await step(page, '市级推荐', '推荐意见', '已补充家庭病床数据，经市级评审，同意推荐湖里区。')
  await expect(page.locator('.state')).toHaveText('市级已推荐')
  await shot(page, 'demonstration-city-recommended')
  await signOut(page)

  // 3. the province records its review, then approves
  await signIn(page, 'prov_admin')
  await page.goto(url)
  await page.getByRole('button', { name: '记录省级评审' }).click()
  const review = page.getByRole('dialog', { name: '记录省级评审' })
  await review.getByLabel('书面审核意见').fill('申报材料齐全，数据与登记一致。')
  const visitDate = review.getByLabel('现场核查日期')
  await visitDate.fill(new Date().toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' }))
  await visitDate.press('Enter')
  await review.getByLabel('现场核查情况').fill('现场核查与申报一致。')
  await review.getByRole('button', { name: '添加专家评分' }).click()
  await review.getByPlaceholder('专家姓名').last().fill('陈建华') // the row just added
  const saved = page.waitForResponse((r) => r.request().method() === 'PUT' && r.url().endsWith('/province-review'))
  await review.getByRole('button', { name: '保存评审记录' }).click()
  expect((await saved).status()).toBe(200)
  await expect(review).toBeHidden()
  await expect(page.getByText('陈建华 80 分').first()).toBeVisible()

  await step(page, '省级评审通过', '评审意见', '书面审核与现场核查均通过，专家评分合格，同意报送。')
  await expect(page.locator('.state')).toHaveText('省级评审通过')
  await page.getByRole('tab', { name: '审核轨迹' }).click()
  await expect(page.getByText('退回 → 已申报').last()).toBeVisible()
  await expect(page.getByText('省级评审通过 → 省级评审通过').last()).toBeVisible()
  await shot(page, 'demonstration-approved-trail')

  // the provincial 推荐汇总表 of counties, saved under the name the server gives
  await page.goto('/demonstration/batches')
  await expect(page.getByRole('heading', { level: 2, name: /第二批/ })).toBeVisible()
  await checkA11y(page)
  const batch = page.locator('.batch', { hasText: '第二批' })
  await batch.getByRole('button', { name: '推荐汇总表' }).click()
  const dialog = page.getByRole('dialog', { name: '下载推荐汇总表' })
  const xlsx = page.waitForResponse((r) => r.url().includes('/recommendation-summary.xlsx'))
  const download = page.waitForEvent('download')
  await dialog.getByRole('button', { name: '下载 XLSX' }).click()
  const response = await xlsx
  expect(response.status()).toBe(200)
  const disposition = response.headers()['content-disposition'] ?? ''
  const encoded = /filename\*=UTF-8''([^;]+)/i.exec(disposition)?.[1] ?? ''
  expect((await download).suggestedFilename()).toBe(decodeURIComponent(encoded))
  expect(decodeURIComponent(encoded)).toMatch(/\.xlsx$/)
  await shot(page, 'demonstration-summary')
})
