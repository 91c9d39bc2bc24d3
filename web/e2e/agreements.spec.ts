// 医养签约 in the console (issue 15): an elderly-care institution (兰馨颐养院, 湖里) finds a medical partner
// in the directory, drafts and submits an agreement; the partner's admin countersigns it from its list; the
// county (湖里, the elderly-care party's county, which files — contracts README) files it from its 待备案
// list; the agreement is then in force and filed.
//
// The pair must be new: the API refuses a second agreement of a pair that has one negotiated or in force
// (409 duplicate_agreement), and the demo's 兰馨颐养院 already has one with each medical institution that
// has a demo account (厦门新开元医院 in force, 厦门莲花医院 submitted). So the flow takes the nearest 湖里
// medical institution 兰馨颐养院 has no agreement with, and 湖里's county admin creates an account for it
// through the API (an official creates the institution admins of its county) — nothing of the demo's data
// that another flow uses is consumed.
import { request as apiRequest, type APIRequestContext, type Page } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'
import { GATEWAY, PASSWORD } from './stack'

const HULI = '350206'
const PARTNER_PASSWORD = 'E2e@Agree2026'

interface Partner {
  id: string
  name: string
  username: string
}

async function tokenOf(api: APIRequestContext, username: string, password = PASSWORD): Promise<string> {
  const response = await api.post('/api/v1/auth/token', { form: { grant_type: 'password', username, password } })
  expect(response.status(), `token of ${username}`).toBe(200)
  return ((await response.json()) as { access_token: string }).access_token
}

/** The nearest 湖里 medical institution without an agreement with 兰馨颐养院, and an admin account for it. */
async function preparePartner(): Promise<Partner> {
  const api = await apiRequest.newContext({ baseURL: GATEWAY })
  try {
    const lanxin = { Authorization: `Bearer ${await tokenOf(api, 'lanxin_admin')}` }
    const mine = await api.get('/api/v1/contracts/agreements', { params: { limit: 200 }, headers: lanxin })
    expect(mine.status()).toBe(200)
    const taken = new Set(
      ((await mine.json()) as { items: { medical_party: { institution_id: string } }[] }).items.map(
        (a) => a.medical_party.institution_id,
      ),
    )
    const directory = await api.get('/api/v1/registry/directory/institutions', {
      params: { limit: 50 },
      headers: lanxin,
    })
    expect(directory.status()).toBe(200)
    const page = (await directory.json()) as {
      nearest_first: boolean
      items: { id: string; name: string; region_code: string }[]
    }
    expect(page.nearest_first, '兰馨颐养院 has coordinates: nearest first').toBe(true)
    const partner = page.items.find((i) => i.region_code === HULI && !taken.has(i.id))
    if (!partner) throw new Error('湖里区没有可与兰馨颐养院新签约的医疗机构')

    const username = `e2e_agr_${Date.now().toString(36)}`
    const huli = { Authorization: `Bearer ${await tokenOf(api, 'huli_admin')}` }
    const created = await api.post('/api/v1/auth/users', {
      headers: huli,
      data: {
        username,
        display_name: `${partner.name}管理员`,
        password: PARTNER_PASSWORD,
        role: 'institution_admin',
        institution_id: partner.id,
      },
    })
    expect(created.status(), await created.text()).toBe(201)
    return { id: partner.id, name: partner.name, username }
  } finally {
    await api.dispose()
  }
}

async function signOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: '退出登录' }).click()
  await expect(page).toHaveURL(/\/login/)
}

/** axe after a write: the success toast fades in and out (axe would measure its contrast mid-fade). */
async function checkA11yAfterToast(page: Page): Promise<void> {
  await expect(page.locator('.el-message')).toHaveCount(0)
  await checkA11y(page)
}

async function confirm(page: Page, button: string): Promise<void> {
  await page.getByRole('dialog').getByRole('button', { name: button, exact: true }).click()
}

test.describe.serial('an agreement from the directory to 备案', () => {
  // three people sign in in turn; a loaded two-core machine needs more than the suite's 30 s
  test.describe.configure({ timeout: 90_000 })
  let partner: Partner
  let agreementPath = ''

  test.beforeAll(async () => {
    partner = await preparePartner()
  })

  test('兰馨颐养院 finds a partner nearest first, drafts, prints and submits the agreement', async ({ page }) => {
    await signIn(page, 'lanxin_admin')
    await page.goto('/agreements')
    await expect(page.getByRole('heading', { name: '签约协议' })).toBeVisible()
    await expect(page.getByRole('row', { name: /厦门新开元医院/ }).first()).toBeVisible()
    await shot(page, 'agreements-list-lanxin')
    await checkA11y(page)

    await page.getByRole('button', { name: '寻找合作机构并起草协议' }).click()
    await expect(page.getByText('按与本机构的直线距离由近及远排列')).toBeVisible()
    await expect(page.getByRole('button', { name: /^与.+起草协议$/ }).first()).toBeVisible()
    await shot(page, 'agreements-partners')
    await checkA11y(page)

    await page.getByLabel('机构名称').fill(partner.name)
    await page.getByRole('button', { name: '搜索' }).click()
    await page.getByRole('button', { name: `与${partner.name}起草协议` }).click()
    await expect(page.getByRole('heading', { name: '起草签约协议' })).toBeVisible()
    await expect(page.getByText(partner.name)).toBeVisible()
    await page.getByLabel('巡诊人员安排').fill('全科医生 1 名、护士 1 名，每周二上午')
    await page.getByLabel('本方联系人').fill('郑慧敏')
    await page.getByLabel('联系电话').fill('13906001234')
    await shot(page, 'agreements-draft')
    await checkA11y(page)

    const created = page.waitForResponse(
      (r) => r.url().endsWith('/api/v1/contracts/agreements') && r.request().method() === 'POST',
    )
    await page.getByRole('button', { name: '保存草稿' }).click()
    const response = await created
    expect(response.status()).toBe(201)
    expect(response.request().headers()['idempotency-key'], 'one Idempotency-Key per attempt').toBeTruthy()
    await expect(page).toHaveURL(/\/agreements\/[0-9a-f-]{36}$/)
    agreementPath = new URL(page.url()).pathname
    await expect(page.getByText('草稿', { exact: true })).toBeVisible()

    const download = page.waitForEvent('download')
    await page.getByRole('button', { name: '下载打印版' }).click()
    expect((await download).suggestedFilename()).toMatch(/医养签约合作协议\.html$/)

    await page.getByRole('button', { name: '提交对方会签' }).click()
    await confirm(page, '提交')
    await expect(page.getByText('已提交，待对方会签', { exact: true })).toBeVisible()
    await expect(page.getByRole('button', { name: '会签' })).toHaveCount(0) // the submitter does not countersign
    await shot(page, 'agreements-submitted')
    await checkA11yAfterToast(page)
    await signOut(page)
  })

  test("the partner's admin countersigns from its list", async ({ page }) => {
    expect(agreementPath).not.toBe('')
    await signIn(page, partner.username, PARTNER_PASSWORD)
    await page.goto('/agreements?status=submitted')
    const row = page.getByRole('row', { name: /兰馨颐养院/ })
    await expect(row).toBeVisible()
    await row.getByRole('button', { name: '查看' }).click()
    await expect(page).toHaveURL(new RegExp(`${agreementPath}$`))

    await page.getByRole('button', { name: '会签', exact: true }).click()
    await confirm(page, '会签')
    // the term starts today: countersigned → in force at once
    await expect(page.getByText('生效中', { exact: true })).toBeVisible()
    await expect(page.getByText('备案：待备案')).toBeVisible()
    await shot(page, 'agreements-countersigned')
    await signOut(page)
  })

  test('湖里 files it from its 待备案 list; it shows in force and filed', async ({ page }) => {
    expect(agreementPath).not.toBe('')
    await signIn(page, 'huli_admin')
    await page.goto('/agreements/filing')
    await expect(page.getByRole('heading', { name: '协议备案' })).toBeVisible()
    await expect(page.getByRole('row', { name: new RegExp(`兰馨颐养院.*${partner.name}`) })).toBeVisible()
    await shot(page, 'agreements-filing-list')
    await checkA11y(page)

    await page.getByRole('row', { name: new RegExp(`兰馨颐养院.*${partner.name}`) }).getByRole('button').click()
    await expect(page).toHaveURL(new RegExp(`${agreementPath}$`))
    await expect(page.getByText(partner.name).first()).toBeVisible()
    await page.getByRole('button', { name: '备案', exact: true }).click()
    await page.getByLabel('备案意见').fill('协议双方已签署，材料齐全，予以备案。')
    const filed = page.waitForResponse((r) => r.url().endsWith('/file') && r.request().method() === 'POST')
    await confirm(page, '确认备案')
    expect((await filed).status()).toBe(200)
    await expect(page.getByText('备案：已备案')).toBeVisible()
    await expect(page.getByText('生效中', { exact: true })).toBeVisible()
    await expect(page.getByRole('button', { name: '备案', exact: true })).toHaveCount(0)
    await shot(page, 'agreements-filed')
    await checkA11yAfterToast(page)
    await signOut(page)
  })

  test('兰馨颐养院 renews it: a draft for the next term, linked to the filed one', async ({ page }) => {
    expect(agreementPath).not.toBe('')
    await signIn(page, 'lanxin_admin')
    await page.goto(agreementPath)
    await page.getByRole('button', { name: '续签', exact: true }).click()
    const renewed = page.waitForResponse((r) => r.url().endsWith('/renew') && r.request().method() === 'POST')
    await confirm(page, '生成续签草稿')
    expect((await renewed).status()).toBe(201)
    await expect(page).not.toHaveURL(new RegExp(`${agreementPath}$`))
    await expect(page.getByText('草稿', { exact: true })).toBeVisible()
    await expect(page.getByRole('link', { name: '查看原协议' })).toBeVisible()
    await shot(page, 'agreements-renewal-draft')
  })
})

test('an institution sees its own profile and year figures', async ({ page }) => {
  await signIn(page, 'lanxin_admin')
  await page.goto('/agreements')
  await page.getByRole('link', { name: '本机构信息与年度数据' }).click()
  await expect(page.getByRole('heading', { name: '本机构信息' })).toBeVisible()
  await expect(page.getByText('兰馨颐养院').first()).toBeVisible()
  await expect(page.getByRole('row', { name: /^20\d\d / }).first()).toBeVisible()
  await shot(page, 'institution-profile')
  await checkA11y(page)
})
