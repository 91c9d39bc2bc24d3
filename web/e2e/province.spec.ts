// The province's indicators dashboard (issue 15): prov_admin reads the province's figures against their
// targets, drills down to 厦门市 and one of its districts, opens the records behind a figure and
// downloads the report's XLSX under the name the server gives it. Read-only: it changes no demo data.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

import type { Page, Response } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'

interface Figure {
  indicator: string
  name: string
  unit: string
  status: string
  value: number | null
  numerator: number | null
}
interface Report {
  period: string
  region: { region_code: string; region_name: string; figures: Figure[] }
  breakdown: { region_code: string; region_name: string }[]
}
interface RecordPage {
  items: { name: string }[]
  next_cursor: string | null
}

// The README's picture of the console (docs/img/dashboard.png), rewritten only when asked for
// (`E2E_DOCS_IMAGES=1`), so that a test run does not change a committed file.
const DOCS_IMAGE = process.env.E2E_DOCS_IMAGES === '1' ? resolve(import.meta.dirname, '..', '..', 'docs', 'img', 'dashboard.png') : null

function reportFor(page: Page, region: string): Promise<Response> {
  return page.waitForResponse((r) => {
    const url = new URL(r.url())
    return url.pathname === '/api/v1/indicators/report' && url.searchParams.get('region') === region
  })
}

/** What the dashboard prints for a count (thousands separators). */
function count(value: number | null): string {
  return value === null ? '—' : new Intl.NumberFormat('zh-CN').format(value)
}

/** The file name of a Content-Disposition header (`filename*=UTF-8''…`). */
function dispositionName(header: string | undefined): string {
  const match = /filename\*=UTF-8''([^;]+)/i.exec(header ?? '')
  return match?.[1] ? decodeURIComponent(match[1]) : ''
}

test('prov_admin reads the dashboard and drills down to 厦门市, then to 思明区', async ({ page }) => {
  test.setTimeout(90_000) // two CPUs shared with the stack's five processes (and other suites): sign-in, three reports, axe
  await page.setViewportSize({ width: 1440, height: 900 })
  await signIn(page, 'prov_admin')

  // the province's figures, as the indicators service computed them, and the targets due
  const provinceAnswer = reportFor(page, '350000')
  const evaluationAnswer = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/indicators/targets/evaluation')
  await page.getByRole('menuitem', { name: '指标看板' }).click()
  const province = (await (await provinceAnswer).json()) as Report
  const evaluation = (await (await evaluationAnswer).json()) as { targets: { name: string }[] }
  expect(province.region.region_code).toBe('350000')
  await expect(page.getByRole('heading', { name: '医养结合指标看板' })).toBeVisible()
  const institutions = province.region.figures.find((f) => f.indicator === 'integrated_institutions')
  expect(institutions?.status).toBe('computed')
  const figureRow = page.locator('.figure-table').getByRole('row', { name: /医养结合机构数/ }).first()
  await expect(figureRow).toContainText(count(institutions?.value ?? null))
  // the province's breakdown lists the ten city-level units
  expect(province.breakdown).toHaveLength(10)
  const cities = page.locator('.breakdown-table')
  await expect(cities.getByRole('row')).toHaveCount(11) // header + 10
  await expect(page.getByText(/数据更新于|数据滞后|数据尚未同步完成|数据同步异常/)).toBeVisible()
  expect(evaluation.targets.length).toBeGreaterThan(0) // the demo's 2025 targets
  await expect(page.locator('.evaluation-table').getByRole('row')).toHaveCount(evaluation.targets.length + 1)
  await expect(page.locator('figure.chart canvas').first()).toBeVisible()
  if (DOCS_IMAGE) await page.screenshot({ path: DOCS_IMAGE }) // 1440×900
  await shot(page, 'province-dashboard')
  await checkA11y(page)

  // a row opens the city: its counties below it
  const cityAnswer = reportFor(page, '350200')
  await cities.getByRole('row', { name: /厦门市/ }).click()
  const city = (await (await cityAnswer).json()) as Report
  expect(city.region.region_name).toBe('厦门市')
  await expect(page.getByLabel('区域层级')).toContainText('福建省')
  await expect(page.locator('.dashboard-trail-current')).toHaveText('厦门市')
  await expect(page).toHaveURL(/region=350200/)
  const counties = page.locator('.breakdown-table')
  await expect(counties.getByRole('row', { name: /思明区/ })).toBeVisible()
  await shot(page, 'province-dashboard-xiamen')

  // …and a county, the lowest level: no breakdown
  const countyAnswer = reportFor(page, '350203')
  await counties.getByRole('row', { name: /思明区/ }).click()
  const county = (await (await countyAnswer).json()) as Report
  expect(county.breakdown).toEqual([])
  await expect(page.locator('.dashboard-trail-current')).toHaveText('思明区')
  await expect(page.locator('.breakdown-table')).toHaveCount(0)
  await shot(page, 'province-dashboard-siming')
})

test('prov_admin opens the records behind a figure of 思明区 and downloads its report as XLSX', async ({ page }) => {
  test.setTimeout(90_000)
  await page.setViewportSize({ width: 1440, height: 900 })
  await signIn(page, 'prov_admin')
  const countyAnswer = reportFor(page, '350203')
  await page.goto('/indicators?region=350203') // the period defaults to this year
  const county = (await (await countyAnswer).json()) as Report
  await expect(page.locator('.dashboard-trail-current')).toHaveText('思明区')
  const coverage = county.region.figures.find((f) => f.indicator === 'agreement_coverage')
  expect(coverage?.status).toBe('computed')

  // the records behind 养老机构签约覆盖率 in 思明区: the homes counted (numerator), then all the homes
  const numeratorAnswer = page.waitForResponse((r) => r.url().includes('/report/agreement_coverage/records?'))
  await page.getByRole('button', { name: '查看养老机构签约覆盖率的明细' }).click()
  const numerator = (await (await numeratorAnswer).json()) as RecordPage
  await expect(page.getByRole('heading', { name: '养老机构签约覆盖率' })).toBeVisible()
  expect(new URL((await numeratorAnswer).url()).searchParams.get('region')).toBe('350203')
  const records = page.locator('.records-table')
  expect(numerator.items.length).toBeGreaterThan(0)
  await expect(records.getByRole('row')).toHaveCount(numerator.items.length + 1)
  await expect(records).toContainText(numerator.items[0]?.name ?? '?')
  const denominatorAnswer = page.waitForResponse((r) => r.url().includes('part=denominator'))
  await page.getByText(/^分母：/).click()
  const denominator = (await (await denominatorAnswer).json()) as RecordPage
  await expect(records.getByRole('row')).toHaveCount(denominator.items.length + 1)
  await shot(page, 'province-records')
  await checkA11y(page)

  // back on the county's dashboard: the report's XLSX, named as the server says
  await page.getByRole('button', { name: '返回指标看板' }).click()
  await expect(page.locator('.dashboard-trail-current')).toHaveText('思明区')
  const exportAnswer = page.waitForResponse((r) => r.url().includes('/api/v1/indicators/report/export?'))
  const download = page.waitForEvent('download')
  await page.getByRole('button', { name: '导出 XLSX' }).click()
  const serverName = dispositionName((await exportAnswer).headers()['content-disposition'])
  const file = await download
  expect(serverName).toMatch(/思明区/)
  expect(file.suggestedFilename()).toBe(serverName)
  expect(file.suggestedFilename()).toMatch(/\.xlsx$/)
  const body = readFileSync(await file.path())
  expect(body.subarray(0, 2).toString('latin1')).toBe('PK')
})
