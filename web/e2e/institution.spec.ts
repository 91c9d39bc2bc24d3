// Institution work queues (issue 15): 厦门新开元医院 takes a referral from its inbox one step (declines it
// with a reason); 兰馨颐养院 refers a resident through the form and cancels it from its outbox; 新开元's
// doctor moves a home-bed application on (assessed, then opened); 厦门莲花医院's alarm queue (the homecare
// area's page) resolves an open SOS when the demo has one, else shows its empty state. Each flow makes its
// own records (a referral from 兰馨颐养院 on their active agreement, a new service recipient and
// application), with ID numbers unique to the run, so no demo record another flow needs is consumed and
// the suite can run again against a kept stack.
import { request as apiRequest, type APIRequestContext, type Page } from '@playwright/test'

import { checkA11y, expect, shot, signIn, test } from './fixtures'
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

/** Signs in, lets the log-in page's own requests (its favicon) finish — a navigation would abort them,
 * which the fixture counts as a failed request — then opens `path`. */
async function signInAt(page: Page, username: string, path: string): Promise<void> {
  await signIn(page, username)
  await page.waitForLoadState('networkidle')
  await page.goto(path)
}

function key(): { 'Idempotency-Key': string } {
  return { 'Idempotency-Key': crypto.randomUUID() }
}

interface Party {
  institution_id: string
  name: string
}

test('厦门新开元医院 declines a referral from its inbox with a reason', async ({ page }) => {
  test.setTimeout(60_000) // several pages and two writes; the shared CI machine is slow
  const run = crypto.randomUUID().slice(0, 8)
  const reason = `浏览器测试转诊 ${run}：夜间血压波动，需专科评估`
  const lanxin = await as('lanxin_admin')
  const agreements = await lanxin.get('/api/v1/contracts/agreements', { params: { status: 'active', limit: 200 } })
  expect(agreements.status()).toBe(200)
  const { items } = (await agreements.json()) as { items: { id: string; medical_party: Party; services: string[] }[] }
  const agreement = items.find((a) => a.medical_party.name === '厦门新开元医院' && a.services.includes('two_way_referral'))
  if (!agreement) throw new Error('演示数据中兰馨颐养院与厦门新开元医院没有含双向转诊的生效协议')
  const created = await lanxin.post('/api/v1/contracts/referrals', {
    data: {
      agreement_id: agreement.id,
      direction: 'up',
      urgency: 'routine',
      reason,
      resident: { name: '郑秀兰', id_number: newIdNumber(), phone: '13905921234' },
    },
    headers: key(),
  })
  expect(created.status(), await created.text()).toBe(201)
  const referral = (await created.json()) as { id: string }
  await lanxin.dispose()

  await signInAt(page, 'xinkaiyuan_admin', '/referrals')
  await expect(page.getByRole('heading', { level: 1, name: '双向转诊' })).toBeVisible()
  const row = page.locator('.referral-table .el-table__row', { hasText: run })
  await expect(row).toBeVisible()
  await expect(row).toContainText('郑*兰') // listed masked
  await expect(row).toContainText('已申请')
  await shot(page, 'institution-referral-inbox')
  await checkA11y(page)

  await row.getByRole('button', { name: '查看' }).click()
  await expect(page).toHaveURL(new RegExp(`/referrals/${referral.id}$`))
  await expect(page.getByText('完整显示（查看已留痕）')).toBeVisible() // a party sees the resident whole
  await expect(page.getByText('郑秀兰')).toBeVisible()
  await expect(page.getByRole('cell', { name: '兰馨颐养院', exact: true })).toBeVisible()
  const actions = page.getByRole('group', { name: '转诊操作' })
  await expect(actions.getByRole('button')).toHaveText(['接收', '拒绝']) // the receiver's steps only
  await shot(page, 'institution-referral-detail')
  await checkA11y(page)

  await actions.getByRole('button', { name: '拒绝' }).click()
  const dialog = page.getByRole('dialog', { name: '拒绝转诊' })
  await dialog.getByLabel('拒绝原因').fill('本院心内科床位已满，建议转厦门大学附属心血管病医院')
  const declined = page.waitForResponse((r) => r.url().endsWith(`/referrals/${referral.id}/decline`))
  await dialog.getByRole('button', { name: '确认拒绝' }).click()
  const answer = await declined
  expect(answer.status()).toBe(200)
  expect(answer.request().headers()['if-match']).toBeTruthy()
  expect(answer.request().headers()['idempotency-key']).toBeTruthy()
  await expect(dialog).toBeHidden()
  await expect(page.locator('.el-descriptions').getByText('已拒绝', { exact: true })).toBeVisible()
  await expect(page.getByText('已拒绝：本院心内科床位已满')).toBeVisible()
  await expect(page.getByRole('group', { name: '转诊操作' })).toHaveCount(0)
  await shot(page, 'institution-referral-declined')
})

test('兰馨颐养院 refers a resident up through the form, finds it in its outbox and cancels it', async ({ page }) => {
  test.setTimeout(60_000)
  const run = crypto.randomUUID().slice(0, 8)
  await signInAt(page, 'lanxin_admin', '/referrals/new')
  await expect(page.getByRole('heading', { level: 1, name: '发起转诊' })).toBeVisible()
  await page.locator('.el-select', { has: page.locator('#referral-agreement') }).click()
  await page.getByRole('option', { name: /^厦门新开元医院（/ }).click()
  await expect(page.getByText('上转（养老机构→医疗机构）')).toBeVisible() // the elderly-care side refers up
  await page.getByLabel('老人姓名').fill('蔡金花')
  await page.getByLabel('身份证号').fill(newIdNumber())
  await page.getByLabel('转诊原因').fill(`浏览器测试上转 ${run}：反复低热三天`)
  await shot(page, 'institution-referral-new')
  await checkA11y(page)
  const created = page.waitForResponse((r) => r.url().endsWith('/api/v1/contracts/referrals') && r.request().method() === 'POST')
  await page.getByRole('button', { name: '提交转诊申请' }).click()
  const answer = await created
  expect(answer.status()).toBe(201)
  expect(answer.request().headers()['idempotency-key']).toBeTruthy()
  const { id } = (await answer.json()) as { id: string }
  await expect(page).toHaveURL(new RegExp(`/referrals/${id}$`))
  const actions = page.getByRole('group', { name: '转诊操作' })
  await expect(actions.getByRole('button')).toHaveText(['取消转诊']) // the sender may only cancel

  await page.getByRole('link', { name: '返回转诊列表' }).click()
  await page.getByText('发出的转诊', { exact: true }).click()
  const row = page.locator('.referral-table .el-table__row', { hasText: run })
  await expect(row).toContainText('蔡*花')
  await row.getByRole('button', { name: '查看' }).click()
  await actions.getByRole('button', { name: '取消转诊' }).click()
  const dialog = page.getByRole('dialog', { name: '取消转诊' })
  await dialog.getByLabel('取消原因').fill('家属决定暂缓转诊')
  const cancelled = page.waitForResponse((r) => r.url().endsWith(`/referrals/${id}/cancel`))
  await dialog.getByRole('button', { name: '确认取消' }).click()
  expect((await cancelled).status()).toBe(200)
  await expect(page.locator('.el-descriptions').getByText('已取消', { exact: true })).toBeVisible()
})

test('a doctor of 厦门新开元医院 assesses a home-bed application and opens the bed', async ({ page }) => {
  test.setTimeout(60_000)
  const admin = await as('xinkaiyuan_admin')
  const recipient = await admin.post('/api/v1/homecare/recipients', {
    data: {
      name: '黄阿婆',
      id_number: newIdNumber(),
      address: '厦门市湖里区金山街道浏览器测试小区 1 号',
      region_code: '350206',
      phone: '13805920000',
      consent: { given_at: new Date().toISOString(), method: 'written', signed_by: 'self' },
    },
    headers: key(),
  })
  expect(recipient.status(), await recipient.text()).toBe(201)
  const { id: recipientId } = (await recipient.json()) as { id: string }
  const applied = await admin.post('/api/v1/homecare/home-beds', {
    data: {
      recipient_id: recipientId,
      diagnosis: '脑梗死后遗症，右侧肢体偏瘫',
      condition_stable: true,
      mobility: 'bedridden',
      conditions: ['stroke_or_post_surgery_rehab'],
      has_family_doctor_contract: true,
      application_note: '浏览器测试建床申请',
    },
    headers: key(),
  })
  expect(applied.status(), await applied.text()).toBe(201)
  const bed = (await applied.json()) as { id: string; record_no: string }
  await admin.dispose()

  await signInAt(page, 'xinkaiyuan_doctor', '/home-beds?status=applied')
  await expect(page.getByRole('heading', { level: 1, name: '家庭病床' })).toBeVisible()
  await expect(page.locator('.page-state[aria-busy="false"]')).toBeVisible()
  await shot(page, 'institution-home-beds')
  await checkA11y(page)

  await page.goto(`/home-beds/${bed.id}`)
  await expect(page.getByText(bed.record_no)).toBeVisible()
  const actions = page.getByRole('group', { name: '家庭病床操作' })
  await expect(actions.getByRole('button')).toHaveText(['建床评估', '撤回申请'])
  await checkA11y(page)

  await actions.getByRole('button', { name: '建床评估' }).click()
  const assess = page.getByRole('dialog', { name: '建床评估' })
  await assess.getByLabel('评估意见').fill('长期卧床，生命体征平稳，符合建床条件')
  const assessed = page.waitForResponse((r) => r.url().endsWith(`/home-beds/${bed.id}/assess`))
  await assess.getByRole('button', { name: '确定' }).click()
  expect((await assessed).status()).toBe(200)
  await expect(page.locator('.el-descriptions').getByText('评估合格', { exact: true })).toBeVisible()
  await expect(page.getByText('符合建床条件', { exact: true })).toBeVisible()
  await shot(page, 'institution-home-bed-assessed')

  await actions.getByRole('button', { name: '建床' }).click()
  const open = page.getByRole('dialog', { name: '建床' })
  await open.getByLabel('诊疗护理计划').fill('每周查床一次；康复训练指导；压疮预防护理')
  const opened = page.waitForResponse((r) => r.url().endsWith(`/home-beds/${bed.id}/open`))
  await open.getByRole('button', { name: '确定' }).click()
  expect((await opened).status()).toBe(200)
  await expect(page.locator('.el-descriptions').getByText('已建床', { exact: true })).toBeVisible()
  await expect(actions.getByRole('button')).toHaveText(['记录查床', '再评估', '撤床'])
  await shot(page, 'institution-home-bed-opened')
})

test('厦门莲花医院 resolves an open SOS alarm, or sees that there is none', async ({ page }) => {
  const lianhua = await as('lianhua_admin')
  const open = await lianhua.get('/api/v1/homecare/sos', { params: { open: true, limit: 1 } })
  expect(open.status()).toBe(200)
  const { items } = (await open.json()) as { items: { id: string }[] }
  await lianhua.dispose()

  await signInAt(page, 'lianhua_admin', '/homecare/alerts')
  await expect(page.getByRole('heading', { level: 1, name: '报警与投诉' })).toBeVisible()
  const pane = page.locator('.el-tab-pane:visible')
  await expect(pane.locator('.page-state[aria-busy="false"]')).toBeVisible()
  const alarm = items[0]
  if (!alarm) {
    await expect(pane.getByText('没有未处理的报警')).toBeVisible()
    await shot(page, 'institution-sos-empty')
    await checkA11y(page)
    return
  }
  await shot(page, 'institution-sos-open')
  await checkA11y(page)
  const resolved = page.waitForResponse((r) => r.url().endsWith(`/sos/${alarm.id}/resolve`))
  await pane.locator('.el-table__row').first().getByRole('button', { name: '处理' }).click()
  const dialog = page.getByRole('dialog')
  await dialog.getByRole('textbox').fill('已电话联系家属并派员上门，老人情况平稳')
  await dialog.getByRole('button', { name: /确定|提交|处理/ }).last().click()
  expect((await resolved).status()).toBe(200)
  await shot(page, 'institution-sos-resolved')
})
