// County screens (issue 15): huli_admin's 机构名录 and 备案审核. Each flow makes the records it changes
// through the API first (a filing, an institution, all named with the run's stamp), so that no demo
// record another spec relies on is touched: (1) a filing is reviewed (不予备案 with a reason), (2) a
// stale edit meets the conflict dialog and 重新加载 shows the newer value, (3) a double-clicked 新增
// creates one institution, (4) search, export under the server's file name, and an import refused row by row.
import { randomUUID } from 'node:crypto'

import { request as apiRequest, type APIRequestContext, type Page } from '@playwright/test'

import { checkA11y, expect, expectProblem, shot, signIn, test } from './fixtures'
import { GATEWAY, PASSWORD } from './stack'

const HULI = '350206'

// each flow signs in, makes its records through the API and walks 3–5 pages: ~10 s on idle cores, over
// 20 s at the load average this shared machine sees while several suites run
test.describe.configure({ timeout: 60_000 })
const stamp = `${Date.now() % 1_000_000}`

/** An API client signed in as a demo account (bearer token from the browser-session endpoint). */
async function apiAs(username: string): Promise<APIRequestContext> {
  const login = await apiRequest.newContext({ baseURL: GATEWAY })
  const answer = await login.post('/api/v1/auth/session', { data: { username, password: PASSWORD } })
  expect(answer.status(), `sign in ${username}`).toBe(200)
  const { access_token: token } = (await answer.json()) as { access_token: string }
  await login.dispose()
  return apiRequest.newContext({ baseURL: GATEWAY, extraHTTPHeaders: { Authorization: `Bearer ${token}` } })
}

interface Institution {
  id: string
  name: string
  address: string | null
  version: number
}

async function createInstitution(api: APIRequestContext, name: string): Promise<Institution> {
  const answer = await api.post('/api/v1/registry/institutions', {
    headers: { 'Idempotency-Key': randomUUID() },
    data: { name, kind: 'elderly_care', category: 'elderly_care_home', region_code: HULI, address: '湖里区测试路 1 号' },
  })
  expect(answer.status(), await answer.text()).toBe(201)
  return (await answer.json()) as Institution
}

async function institutionsNamed(api: APIRequestContext, name: string): Promise<Institution[]> {
  const answer = await api.get('/api/v1/registry/institutions', { params: { q: name, region_code: HULI } })
  expect(answer.status()).toBe(200)
  const page = (await answer.json()) as { items: Institution[] }
  return page.items.filter((i) => i.name === name)
}

async function openMenu(page: Page, title: string): Promise<void> {
  await page.getByRole('menuitem', { name: title }).click()
  await expect(page.getByRole('heading', { level: 1, name: title })).toBeVisible()
}

test('huli_admin reviews a filing: 不予备案 with a reason, shown in its history', async ({ page }) => {
  // a filing of one of 湖里's filed homes (not 兰馨颐养院, which the institution flows use), made for this
  // flow so that the demo's own filings stay as they are; the home keeps its other accepted filing
  const api = await apiAs('huli_admin')
  const listed = await api.get('/api/v1/registry/filings', { params: { state: 'accepted', limit: 50 } })
  const filed = ((await listed.json()) as { items: { institution_id: string; unit_name: string }[] }).items
  const home = filed.find((f) => !f.unit_name.includes('兰馨'))
  expect(home, '湖里 has filed homes besides 兰馨颐养院').toBeDefined()
  const unitName = `测试医务室${stamp}`
  const created = await api.post('/api/v1/registry/filings', {
    data: {
      institution_id: home?.institution_id,
      unit_kind: 'infirmary',
      unit_name: unitName,
      person_in_charge: '王医生',
      doctors: 1,
      nurses: 2,
      service_scope: '常见病诊疗、慢病管理',
      documents: ['application_form', 'premises_proof', 'staff_qualifications', 'rules'],
    },
  })
  expect(created.status(), await created.text()).toBe(201)
  const filing = (await created.json()) as { id: string; state: string }
  expect(filing.state).toBe('accepted') // 即办: complete, so filed at once

  await signIn(page, 'huli_admin')
  await openMenu(page, '备案审核')
  // find it page by page (the desk lists 已备案 filings first), each page judged once it has loaded
  const link = page.getByRole('link', { name: unitName })
  const loaded = async (): Promise<void> => {
    await expect(page.locator('.page-state[aria-busy="true"]')).toHaveCount(0)
    await expect(page.locator('.el-table__row').first()).toBeVisible()
  }
  await loaded()
  while (!(await link.isVisible())) {
    const next = page.getByRole('button', { name: '下一页' })
    await expect(next, `${unitName} is on one of the pages`).toBeEnabled()
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/registry/filings')
    await next.click()
    await answered
    await loaded()
  }
  await shot(page, 'county-filings-desk')
  await checkA11y(page)

  await link.click()
  await expect(page.getByRole('heading', { level: 1, name: unitName })).toBeVisible()
  await expect(page.getByText('已备案').first()).toBeVisible()
  await shot(page, 'county-filing-detail')
  await checkA11y(page)

  await page.getByRole('button', { name: '不予备案' }).click()
  const dialog = page.getByRole('dialog', { name: '不予备案' })
  await dialog.getByLabel('理由').fill('医务人员执业证书与备案表所列人员不一致，请更正后重新提交。')
  const decided = page.waitForResponse((r) => r.url().endsWith(`/filings/${filing.id}/reject`))
  await dialog.getByRole('button', { name: '确定' }).click()
  const answer = await decided
  expect(answer.status()).toBe(200)
  expect(answer.request().headers()['if-match']).toBeTruthy()
  await expect(dialog).toBeHidden()
  await expect(page.locator('.el-tag', { hasText: '不予备案' })).toBeVisible()
  await expect(page.getByText('理由：医务人员执业证书与备案表所列人员不一致')).toBeVisible()
  await expect(page.getByRole('button', { name: '不予备案' })).toHaveCount(0) // rejected: nothing left to review
  await shot(page, 'county-filing-rejected')

  const after = await api.get(`/api/v1/registry/filings/${filing.id}`)
  expect(((await after.json()) as { state: string }).state).toBe('rejected')
  await api.dispose()
})

test('a stale edit: the record changed behind the form → conflict dialog, 重新加载 shows the new value', async ({ page }) => {
  const api = await apiAs('huli_admin')
  const record = await createInstitution(api, `冲突测试养老院${stamp}`)

  await signIn(page, 'huli_admin')
  await page.goto(`/institutions/${record.id}`)
  await expect(page.getByRole('heading', { level: 1, name: record.name })).toBeVisible()
  await page.getByRole('button', { name: '修改' }).click()
  await expect(page.getByRole('heading', { level: 1, name: /修改机构信息/ })).toBeVisible()
  await expect(page.getByLabel('地址')).toHaveValue('湖里区测试路 1 号')
  await shot(page, 'county-institution-edit')
  await checkA11y(page)

  // someone else saves first
  const current = await api.get(`/api/v1/registry/institutions/${record.id}`)
  const changed = await api.patch(`/api/v1/registry/institutions/${record.id}`, {
    headers: { 'If-Match': current.headers().etag ?? '' },
    data: { address: '湖里区他人修改路 9 号' },
  })
  expect(changed.status()).toBe(200)

  // this form still holds the old version
  await page.getByLabel('地址').fill('湖里区我的修改路 2 号')
  expectProblem(page, 412, 'version_mismatch')
  await page.getByRole('button', { name: '保存' }).click()
  const dialog = page.getByRole('dialog', { name: '该记录已被他人修改' })
  await expect(dialog).toBeVisible()
  await shot(page, 'county-institution-conflict')
  await dialog.getByRole('button', { name: '重新加载' }).click()
  await expect(dialog).toBeHidden()
  await expect(page.getByLabel('地址')).toHaveValue('湖里区他人修改路 9 号')

  // the user's edit was not written behind their back
  const now = (await (await api.get(`/api/v1/registry/institutions/${record.id}`)).json()) as Institution
  expect(now.address).toBe('湖里区他人修改路 9 号')
  await api.dispose()
})

test('a double-clicked 新增 creates one institution (one Idempotency-Key per submit)', async ({ page }) => {
  const name = `双击测试养老院${stamp}`
  await signIn(page, 'huli_admin')
  await openMenu(page, '机构名录')
  await page.getByRole('button', { name: '新增机构' }).click()
  await expect(page.getByRole('heading', { level: 1, name: '新增机构' })).toBeVisible()
  await page.getByLabel('机构名称').fill(name)
  await page.getByLabel('地址').fill('湖里区双击路 3 号')
  await page.getByLabel('养老床位').fill('60')
  await checkA11y(page)
  const keys: string[] = []
  page.on('request', (r) => {
    if (r.method() === 'POST' && new URL(r.url()).pathname === '/api/v1/registry/institutions') {
      keys.push(r.headers()['idempotency-key'] ?? '')
    }
  })
  await page.getByRole('button', { name: '新增', exact: true }).dblclick()
  await expect(page.getByRole('heading', { level: 1, name })).toBeVisible()
  await expect(page).toHaveURL(/\/institutions\/[0-9a-f-]{36}$/)
  await shot(page, 'county-institution-created')
  // the second click either found the form busy or resent the same key (the server replays the first answer)
  expect(keys.length).toBeGreaterThanOrEqual(1)
  expect(new Set(keys).size, `one Idempotency-Key for the submit: ${keys.join(', ')}`).toBe(1)
  expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/)

  const api = await apiAs('huli_admin')
  expect(await institutionsNamed(api, name)).toHaveLength(1)
  await api.dispose()
})

test('the register: Chinese name search, detail with history, export under the server name, import refused row by row', async ({ page }) => {
  const api = await apiAs('huli_admin')
  const record = await createInstitution(api, `名录检索颐养中心${stamp}`)
  await api.dispose()

  await signIn(page, 'huli_admin')
  await openMenu(page, '机构名录')
  await expect(page.getByRole('table').first()).toBeVisible()
  await shot(page, 'county-institutions')
  await checkA11y(page)

  await page.getByLabel('机构名称').fill(`检索颐养中心${stamp}`)
  await page.getByRole('button', { name: '查询' }).click()
  await expect(page).toHaveURL(new RegExp(`q=`))
  const link = page.getByRole('link', { name: record.name })
  await expect(link).toBeVisible()
  await expect(page.locator('.institution-table .el-table__row')).toHaveCount(1)

  // export what the search shows, under the name the server gave
  const download = page.waitForEvent('download')
  const exported = page.waitForResponse((r) => r.url().includes('/institutions/export'))
  await page.getByRole('button', { name: '导出 XLSX' }).click()
  const disposition = (await exported).headers()['content-disposition'] ?? ''
  const serverName = decodeURIComponent(/filename\*=UTF-8''([^;]+)/.exec(disposition)?.[1] ?? '')
  expect(serverName).toMatch(/\.xlsx$/)
  expect((await download).suggestedFilename()).toBe(serverName)

  // an import with a bad row writes nothing and shows the row and why
  await page.getByRole('button', { name: '导入' }).click()
  const dialog = page.getByRole('dialog', { name: '导入机构' })
  await dialog.getByLabel('文件').setInputFiles({
    name: 'bad.csv',
    mimeType: 'text/csv',
    buffer: Buffer.from('机构名称,机构类别,机构细类,行政区划代码\n,养老机构,养老机构,350206\n', 'utf8'),
  })
  expectProblem(page, 422, 'import_rejected')
  await dialog.getByRole('button', { name: '上传并导入' }).click()
  await expect(dialog.getByText('未导入：以下行有误')).toBeVisible()
  await expect(dialog.getByRole('cell', { name: '2', exact: true })).toBeVisible()
  await shot(page, 'county-institutions-import-refused')
  await dialog.locator('.el-dialog__footer').getByRole('button', { name: '关闭' }).click()

  await link.click()
  await expect(page.getByRole('heading', { level: 1, name: record.name })).toBeVisible()
  await expect(page.getByRole('heading', { name: '变更历史' })).toBeVisible()
  await expect(page.getByText('新增', { exact: true })).toBeVisible()
  await shot(page, 'county-institution-detail')
  await checkA11y(page)
})
