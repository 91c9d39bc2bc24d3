// City officials' 医养监管 screens (issue 15): xm_admin opens 签约覆盖 and sees the uncovered homes and
// the county comparison chart, then narrows to one county with the region switcher; the 巡诊 and 转诊
// screens answer for the region. Read-only: no demo data is changed.
import type { Page } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'

function answered(page: Page, path: string) {
  return page.waitForResponse((r) => new URL(r.url()).pathname === path && r.request().method() === 'GET')
}

test('xm_admin sees the coverage of 厦门, its uncovered homes and the county comparison chart', async ({ page }) => {
  await signIn(page, 'xm_admin')
  const coverage = answered(page, '/api/v1/contracts/coverage')
  await page.getByRole('menuitem', { name: '医养监管' }).click()
  await page.getByRole('menuitem', { name: '签约覆盖' }).click()
  const answer = await coverage
  expect(answer.status()).toBe(200)
  const body = (await answer.json()) as { uncovered_total: number; uncovered: { name: string }[]; groups: unknown[] }

  await expect(page.getByRole('heading', { name: /厦门市 医养签约覆盖/ })).toBeVisible()
  // the county comparison: a chart (canvas drawn by ECharts) with its data table behind 查看数据
  const chart = page.getByTestId('county-chart')
  await expect(chart.locator('canvas')).toBeVisible()
  await expect(chart).toHaveAttribute('aria-label', /各县（市、区）/)
  await page.getByText('查看数据').click()
  const comparison = page.getByTestId('county-table')
  await expect(comparison.getByRole('cell', { name: '思明区' })).toBeVisible()
  await expect(comparison.getByRole('cell', { name: '湖里区' })).toBeVisible()

  // the uncovered homes as the API listed them
  await expect(page.getByRole('heading', { name: `未签约养老机构（共 ${body.uncovered_total} 家）` })).toBeVisible()
  const first = body.uncovered[0]
  if (first) await expect(page.getByTestId('uncovered-table').getByRole('cell', { name: first.name }).first()).toBeVisible()
  else await expect(page.getByText('该区域所有养老机构均已签约覆盖')).toBeVisible()
  await shot(page, 'city-coverage-xm_admin')
  await checkA11y(page)

  // the region switcher narrows the screen to 湖里区
  const narrowed = page.waitForResponse(
    (r) => r.url().includes('/api/v1/contracts/coverage') && r.url().includes('region_code=350206'),
  )
  await page.getByRole('combobox', { name: '切换区域' }).click()
  await page.getByRole('option', { name: '湖里区' }).click()
  expect((await narrowed).status()).toBe(200)
  await expect(page.getByRole('heading', { name: /湖里区 医养签约覆盖/ })).toBeVisible()
  await expect(comparison.getByRole('cell', { name: '思明区' })).toHaveCount(0)
  await expect(comparison.getByRole('cell', { name: '湖里区' })).toBeVisible()
})

test('xm_admin reads the 巡诊 shortfall and the referral response times of its city', async ({ page }) => {
  await signIn(page, 'xm_admin')
  const summary = answered(page, '/api/v1/contracts/visits/shortfall')
  const agreements = answered(page, '/api/v1/contracts/visits/shortfall/agreements')
  await page.getByRole('menuitem', { name: '医养监管' }).click()
  await page.getByRole('menuitem', { name: '巡诊完成情况' }).click()
  expect((await summary).status()).toBe(200)
  expect((await agreements).status()).toBe(200)
  await expect(page.getByRole('heading', { name: '各县（市、区）巡诊完成情况' })).toBeVisible()
  await expect(page.getByRole('heading', { name: '各协议巡诊情况' })).toBeVisible()
  await expect(page.getByText('加载失败')).toHaveCount(0)
  await shot(page, 'city-shortfall-xm_admin')
  await checkA11y(page)

  const stats = answered(page, '/api/v1/contracts/referrals/stats')
  await page.getByRole('menuitem', { name: '转诊响应时间' }).click()
  expect((await stats).status()).toBe(200)
  await expect(page.getByRole('heading', { name: '双向转诊响应时间' })).toBeVisible()
  await expect(page.getByText('加载失败')).toHaveCount(0)
  await shot(page, 'city-referrals-xm_admin')
  await checkA11y(page)
})
