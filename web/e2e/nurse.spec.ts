// 护士端 (issue 18), on a Pixel 7 in emulation: 林晓燕 (厦门新开元医院) loads her day, goes offline
// (the app reopens from its service worker and IndexedDB), records two visits with photos and a
// signature, raises an SOS and starts a third visit that the dispatcher cancels meanwhile; back online,
// the outbox replays — its first visit record's answer is cut off after the server applied it, so the
// replay is interrupted and repeated — and the server holds exactly those records and attachments, once
// each; the cancelled order is shown as cancelled and its queued record refused with the server's
// reason; the SOS is delivered, and its acknowledgement by the dispatcher appears on the phone through
// the order-event stream (no reload).
import { createHash } from 'node:crypto'
import { crc32, deflateSync } from 'node:zlib'

import { devices, request as apiRequest, type APIRequestContext, type Page } from '@playwright/test'

import { expect, expectFailedRequest, expectProblem, shot, test } from './fixtures'
import { GATEWAY, PASSWORD } from './stack'

const { viewport, userAgent, deviceScaleFactor, isMobile, hasTouch } = devices['Pixel 7']
test.use({ viewport, userAgent, deviceScaleFactor, isMobile, hasTouch, geolocation: { latitude: 24.5092, longitude: 118.1436 }, permissions: ['geolocation'] })

const CHEN_XIUYING_ID_NUMBER = '350206193808120025' // demo recipient of 厦门新开元医院 (born 1938: 高龄)

async function as(username: string): Promise<APIRequestContext> {
  const anonymous = await apiRequest.newContext({ baseURL: GATEWAY })
  const session = await anonymous.post('/api/v1/auth/session', { data: { username, password: PASSWORD } })
  expect(session.status()).toBe(200)
  const { access_token: token } = (await session.json()) as { access_token: string }
  await anonymous.dispose()
  return apiRequest.newContext({ baseURL: GATEWAY, extraHTTPHeaders: { Authorization: `Bearer ${token}` } })
}

const key = (): Record<string, string> => ({ 'Idempotency-Key': crypto.randomUUID() })

/** A small valid PNG of one colour (the server recognises images by their bytes). */
function png(red: number, green: number, blue: number, size = 24): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 2, 0, 0, 0], 8) // 8 bits, RGB
  const row = Buffer.concat([Buffer.from([0]), Buffer.from(Array.from({ length: size }, () => [red, green, blue]).flat())])
  const pixels = Buffer.concat(Array.from({ length: size }, () => row))
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  return Buffer.concat([signature, chunk('IHDR', header), chunk('IDAT', deflateSync(pixels)), chunk('IEND', Buffer.alloc(0))])
}

const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex')

function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toLocaleDateString('en-CA', { timeZone: 'Asia/Shanghai' })
}

interface Placed {
  id: string
  version: number
}

/** An order of 陈秀英 for tomorrow, assessed, accepted and assigned to 林晓燕 in the first hour she is
 * free (the demo, or an earlier run on a kept stack, may have booked some). */
async function assignedOrder(admin: APIRequestContext, recipientId: string, nurseId: string, hours: number[]): Promise<Placed> {
  const day = tomorrow()
  for (;;) {
    const hour = hours.shift()
    if (hour === undefined) throw new Error('林晓燕明天没有空闲的时段')
    const hh = String(hour).padStart(2, '0')
    const placed = await admin.post('/api/v1/homecare/orders', {
      data: { recipient_id: recipientId, item_codes: ['HC01'], window_start: `${day}T${hh}:00:00+08:00`, window_end: `${day}T${hh}:45:00+08:00`, note: '护士端离线测试' },
      headers: key(),
    })
    expect(placed.status()).toBe(201)
    let order = (await placed.json()) as Placed
    for (const [action, data] of [
      ['assess', { service_group: 'very_old', note: '生命体征平稳' }],
      ['accept', {}],
      ['assign', { nurse_practitioner_id: nurseId }],
    ] as const) {
      const moved = await admin.post(`/api/v1/homecare/orders/${order.id}/${action}`, { data, headers: { ...key(), 'If-Match': `"${order.version}"` } })
      if (action === 'assign' && moved.status() === 409) break // booked at that hour: the next one
      expect(moved.status(), `${action}: ${await moved.text()}`).toBe(200)
      order = (await moved.json()) as Placed
      if (action === 'assign') return order
    }
  }
}

async function openOrder(page: Page, id: string): Promise<void> {
  await page.getByRole('link', { name: /待发送/ }).waitFor()
  await page.getByRole('tab', { name: /明天/ }).click()
  await page.locator(`[data-order="${id}"]`).getByRole('button', { name: '查看与服务' }).click()
  await expect(page.getByTestId('order-status')).toBeVisible()
}

async function takeStep(page: Page, button: string, status: string): Promise<void> {
  await page.getByRole('button', { name: button, exact: true }).click()
  await expect(page.getByTestId('order-status')).toHaveText(status)
}

async function sign(page: Page): Promise<void> {
  const pad = page.getByTestId('signature')
  await pad.scrollIntoViewIfNeeded()
  const box = await pad.boundingBox()
  if (!box) throw new Error('签名区不可见')
  await page.mouse.move(box.x + 20, box.y + 40)
  await page.mouse.down()
  for (const [dx, dy] of [[60, 90], [110, 30], [170, 100], [230, 50]]) await page.mouse.move(box.x + (dx ?? 0), box.y + (dy ?? 0), { steps: 4 })
  await page.mouse.up()
  await expect(page.getByText('已签名')).toBeVisible()
}

async function recordVisit(page: Page, photos: Buffer[], systolic: string): Promise<void> {
  await page.getByLabel('收缩压').fill(systolic)
  await page.getByLabel('舒张压').fill('82')
  await page.getByLabel('脉搏').fill('76')
  await page.getByLabel('体温').fill('36.6')
  await page.getByLabel('呼吸').fill('18')
  await page.getByLabel('服务情况').fill('伤口清洁干燥，嘱家属注意翻身')
  if (photos.length) {
    await page.getByTestId('photo-input').setInputFiles(photos.map((buffer, i) => ({ name: `photo-${i + 1}.png`, mimeType: 'image/png', buffer })))
    await expect(page.getByRole('img', { name: /现场照片/ })).toHaveCount(photos.length)
  }
  await sign(page)
  await page.getByRole('button', { name: '提交服务记录' }).click()
  await expect(page.getByText('服务记录已保存')).toBeVisible()
}

async function backToDay(page: Page): Promise<void> {
  await page.getByText('返回').click()
  await expect(page.getByRole('heading', { name: '我的工单' })).toBeAttached()
}

test('a nurse works offline: two visits, a cancelled one and an SOS replayed once each when the network returns', async ({ page, context }) => {
  test.setTimeout(90_000)
  const admin = await as('xinkaiyuan_admin')
  const nurseApi = await as('xinkaiyuan_nurse')
  const me = (await (await nurseApi.get('/api/v1/auth/me')).json()) as { practitioner_id: string }
  await nurseApi.dispose()
  const found = await admin.post('/api/v1/homecare/recipients/lookup', { data: { id_number: CHEN_XIUYING_ID_NUMBER }, headers: key() })
  const [recipient] = (await found.json()) as { id: string }[]
  const hours = [7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]
  const first = await assignedOrder(admin, recipient?.id ?? '', me.practitioner_id, hours)
  const second = await assignedOrder(admin, recipient?.id ?? '', me.practitioner_id, hours)
  const third = await assignedOrder(admin, recipient?.id ?? '', me.practitioner_id, hours)

  // online: sign in, the day is loaded (and kept), the service worker takes the app shell
  await page.goto('/nurse/login')
  await page.getByLabel('账号').fill('xinkaiyuan_nurse')
  await page.getByLabel('密码').fill(PASSWORD)
  await page.getByRole('button', { name: '登录' }).click()
  await page.getByRole('tab', { name: /明天/ }).click()
  for (const order of [first, second, third]) await expect(page.locator(`[data-order="${order.id}"]`)).toContainText('待出发')
  await expect(page.locator(`[data-order="${first.id}"]`).getByRole('link', { name: '导航' })).toHaveAttribute('href', /^https:\/\/uri\.amap\.com\//)
  await page.evaluate(async () => {
    await navigator.serviceWorker.ready
  })
  await shot(page, 'nurse-day')

  // offline: the app opens again from the service worker, with the day from IndexedDB
  await context.setOffline(true)
  await page.reload()
  await expect(page.getByTestId('network')).toHaveText('离线')
  const photoA1 = png(200, 40, 40)
  const photoA2 = png(40, 160, 60)
  const photoB = png(30, 60, 200)

  await openOrder(page, first.id)
  await takeStep(page, '出发', '在途')
  await page.getByLabel('身份核验').fill('0025') // the last four of 陈秀英's ID number, checked by the server
  await takeStep(page, '到达签到', '已签到')
  await takeStep(page, '开始服务', '服务中')
  await recordVisit(page, [photoA1, photoA2], '132')
  await takeStep(page, '签退', '已签退')
  await takeStep(page, '完成服务', '已完成')
  await backToDay(page)

  await openOrder(page, second.id)
  await takeStep(page, '出发', '在途')
  await page.getByRole('button', { name: '一键报警' }).click()
  await page.getByRole('button', { name: '确认报警' }).click()
  await expect(page.getByTestId('sos-state')).toHaveText('报警待发送（恢复网络后立即送达）')
  await takeStep(page, '到达签到', '已签到')
  await takeStep(page, '开始服务', '服务中')
  await recordVisit(page, [photoB], '128')
  await shot(page, 'nurse-offline-visit')
  await takeStep(page, '签退', '已签退')
  await takeStep(page, '完成服务', '已完成')
  await backToDay(page)

  await openOrder(page, third.id)
  await takeStep(page, '出发', '在途')
  await takeStep(page, '到达签到', '已签到')
  await takeStep(page, '开始服务', '服务中')
  await recordVisit(page, [], '140')
  await backToDay(page)
  await expect(page.getByRole('link', { name: /待发送 23 条/ })).toBeVisible()

  // meanwhile the dispatcher cancels the third order (the server still has it assigned)
  const cancelled = await admin.post(`/api/v1/homecare/orders/${third.id}/cancel`, {
    data: { reason: '服务对象家属来电改约' },
    headers: { ...key(), 'If-Match': `"${third.version}"` },
  })
  expect(cancelled.status(), await cancelled.text()).toBe(200)

  // back online: the first visit record reaches the server but its answer is cut off — the replay stops
  // there and starts again (same Idempotency-Key), so nothing is written twice
  let cut = false
  expectFailedRequest(page, /\/visit-record$/)
  await page.route('**/api/v1/homecare/orders/*/visit-record', async (route) => {
    if (cut) return route.continue()
    cut = true
    await route.fetch()
    await route.abort('connectionreset')
  })
  expectProblem(page, 409, 'illegal_transition')
  expectProblem(page, 409, 'visit_record_closed')
  await page.getByRole('link', { name: /待发送/ }).click()
  await context.setOffline(false)
  const queue = page.getByTestId('queue-item')
  await expect(queue).toHaveCount(4, { timeout: 30_000 })
  await expect(queue.and(page.locator('[data-state="refused"]'))).toHaveCount(4)
  await expect(queue.first()).toContainText('该工单已被取消')
  await expect(queue.filter({ hasText: '服务记录' })).toContainText('该工单已被取消：订单当前状态不能提交或修改服务记录')
  expect(cut).toBe(true)
  await shot(page, 'nurse-queue-refused')

  // the server holds exactly the two records, their photos and signatures, once each
  for (const [order, photos, systolic] of [
    [first, [photoA1, photoA2], 132],
    [second, [photoB], 128],
  ] as const) {
    const read = await admin.get(`/api/v1/homecare/orders/${order.id}`)
    expect(((await read.json()) as { status: string }).status).toBe('completed')
    const record = (await (await admin.get(`/api/v1/homecare/orders/${order.id}/visit-record`)).json()) as {
      version: number
      photo_sha256: string[]
      signature_sha256: string | null
      vital_signs: { bp_systolic: number; respiration_rate: number }
      template_version: string | null
    }
    expect(record.version).toBe(1) // written once, never again by a replay
    expect(record.photo_sha256).toEqual(photos.map(sha256))
    expect(record.vital_signs.bp_systolic).toBe(systolic)
    expect(record.vital_signs.respiration_rate).toBe(18)
    expect(record.template_version).toMatch(/^tpl-/) // filled from the catalog's template, checked by the server
    expect(record.signature_sha256).toMatch(/^[0-9a-f]{64}$/)
    for (const [i, digest] of record.photo_sha256.entries()) {
      const attachment = await admin.get(`/api/v1/homecare/attachments/${digest}`)
      expect(attachment.status()).toBe(200)
      expect(Buffer.from(await attachment.body()).equals(photos[i] ?? Buffer.alloc(0))).toBe(true)
    }
    expect((await admin.get(`/api/v1/homecare/attachments/${record.signature_sha256}`)).status()).toBe(200)
  }
  const thirdNow = (await (await admin.get(`/api/v1/homecare/orders/${third.id}`)).json()) as { status: string }
  expect(thirdNow.status).toBe('cancelled')
  expect((await admin.get(`/api/v1/homecare/orders/${third.id}/visit-record`)).status()).toBe(404)

  // the cancelled order is shown as such
  await page.getByText('返回').click()
  await openOrder(page, third.id)
  await expect(page.getByTestId('order-status')).toHaveText('已取消')
  await expect(page.getByTestId('cancelled')).toContainText('该工单已被取消')
  await backToDay(page)

  // the SOS was delivered on reconnect; the institution acknowledges it and the phone shows it
  const open = (await (await admin.get('/api/v1/homecare/sos', { params: { open: 'true', limit: '200' } })).json()) as {
    items: { id: string; order_id: string; version: number }[]
  }
  const alert = open.items.find((a) => a.order_id === second.id)
  expect(alert, '报警应已送达机构').toBeDefined()
  await openOrder(page, second.id)
  await expect(page.getByTestId('sos-state')).toHaveText('报警已送达，等待机构处理')
  // the order-event stream is open (not the feed poll): the acknowledgement arrives on the open page,
  // without a reload, well within NURSE_POLL_MS (15 s)
  await expect(page.locator('[data-stream]')).toHaveAttribute('data-stream', 'live')
  const resolved = await admin.post(`/api/v1/homecare/sos/${alert?.id}/resolve`, {
    data: { resolution: '机构已电话联系护士，现场安全' },
    headers: { ...key(), 'If-Match': `"${alert?.version}"` },
  })
  expect(resolved.status(), await resolved.text()).toBe(200)
  await expect(page.getByTestId('sos-state')).toContainText('机构已处理报警', { timeout: 5_000 })
  await expect(page.locator('[data-stream]')).toHaveAttribute('data-stream', 'live')
  await shot(page, 'nurse-sos-acknowledged')
  await admin.dispose()
})
