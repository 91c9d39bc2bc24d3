// What every spec imports instead of @playwright/test: a `page` that fails the test on any console error,
// uncaught page error, failed request, HTTP response >= 400 or request leaving 127.0.0.1 that the test
// did not announce with `expectProblem`, plus `signIn`, `shot` (screenshots to e2e/screenshots/) and
// `checkA11y` (axe: serious and critical violations fail).
import { mkdirSync } from 'node:fs'
import { join, resolve } from 'node:path'

import AxeBuilder from '@axe-core/playwright'
import { test as base, expect, type Page, type Request, type Response } from '@playwright/test'

import { PASSWORD } from './stack'

export { expect }

const SCREENSHOTS = resolve(import.meta.dirname, 'screenshots')
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost'])

interface ExpectedProblem {
  status: number
  code: string
  required: boolean
  seen: number
}

interface Watch {
  expected: ExpectedProblem[]
  failures: { url: RegExp; seen: number }[]
  unexpected: string[]
  pending: Promise<void>[]
}

const watches = new WeakMap<Page, Watch>()

function watchOf(page: Page): Watch {
  const watch = watches.get(page)
  if (!watch) throw new Error('页面不是由 e2e/fixtures.ts 的 test 创建的')
  return watch
}

/** Announces that this test makes requests to URLs matching `url` fail on purpose (a request aborted
 * mid-replay with `page.route`); they are then not failures of the page, and the test fails if none did. */
export function expectFailedRequest(page: Page, url: RegExp): void {
  watchOf(page).failures.push({ url, seen: 0 })
}

/** Announces that this test provokes `status` with the problem `code` (problem+json `code` field).
 * The response is then not a failure; with `required` (the default) the test fails if it never came. */
export function expectProblem(page: Page, status: number, code: string, options: { required?: boolean } = {}): void {
  watchOf(page).expected.push({ status, code, required: options.required ?? true, seen: 0 })
}

async function problemCode(response: Response): Promise<string> {
  try {
    const body: unknown = await response.json()
    if (typeof body === 'object' && body !== null && 'code' in body && typeof body.code === 'string') return body.code
  } catch {
    // not JSON: no code
  }
  return ''
}

function record(watch: Watch, response: Response): void {
  watch.pending.push(
    problemCode(response).then((code) => {
      const match = watch.expected.find((e) => e.status === response.status() && e.code === code)
      if (match) {
        match.seen += 1
        return
      }
      const request = response.request()
      watch.unexpected.push(`HTTP ${response.status()} ${request.method()} ${response.url()} code=${code || '-'}`)
    }),
  )
}

export const test = base.extend({
  page: async ({ page }, use) => {
    const watch: Watch = { expected: [], failures: [], unexpected: [], pending: [] }
    const answered = new Set<string>() // URLs answered >= 400: judged by their response, not Chrome's log line
    const consoleErrors: { text: string; url: string }[] = []
    // every request in order, and the API reads the page aborted: a list aborts its older load when it
    // loads again (useCursorList) — superseded, not failed, when a later GET of the same path followed
    const sent: Request[] = []
    const abortedReads: Request[] = []
    watches.set(page, watch)
    page.on('request', (request) => {
      sent.push(request)
      const url = new URL(request.url())
      if (['http:', 'https:', 'ws:', 'wss:'].includes(url.protocol) && !LOCAL_HOSTS.has(url.hostname)) {
        watch.unexpected.push(`request leaves 127.0.0.1: ${request.method()} ${request.url()}`)
      }
    })
    page.on('response', (response) => {
      if (response.status() < 400) return
      answered.add(response.url())
      record(watch, response)
    })
    page.on('requestfailed', (request) => {
      // Chrome aborts the favicon (and images still loading) when the test navigates on at once: a page
      // left behind, not a failure of the console. Any other abort or failure still counts.
      const announced = watch.failures.find((f) => f.url.test(request.url()))
      if (announced) {
        announced.seen += 1
        return
      }
      const aborted = request.failure()?.errorText === 'net::ERR_ABORTED'
      if (aborted && (request.resourceType() === 'image' || /\/favicon[^/]*$/.test(new URL(request.url()).pathname))) return
      if (aborted && request.method() === 'GET' && request.resourceType() === 'fetch') {
        abortedReads.push(request)
        return
      }
      watch.unexpected.push(`request failed: ${request.method()} ${request.url()} ${request.failure()?.errorText ?? ''}`)
    })
    page.on('pageerror', (error) => watch.unexpected.push(`page error: ${error.message}`))
    page.on('console', (message) => {
      if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url })
    })
    await use(page)
    await Promise.all(watch.pending)
    const path = (request: Request): string => new URL(request.url()).pathname
    const unsuperseded = abortedReads.filter(
      (request) => !sent.slice(sent.indexOf(request) + 1).some((later) => later.method() === 'GET' && path(later) === path(request)),
    )
    const unexpected = [
      ...watch.unexpected,
      ...unsuperseded.map((request) => `request failed: GET ${request.url()} net::ERR_ABORTED (no later load of its path)`),
      ...consoleErrors
        // Chrome logs "Failed to load resource: … status of 401" for every such response: judged above
        .filter((e) => !(e.text.startsWith('Failed to load resource: the server responded') && answered.has(e.url)))
        .filter((e) => !(e.text.startsWith('Failed to load resource') && watch.failures.some((f) => f.url.test(e.url))))
        .map((e) => `console.error: ${e.text} (${e.url})`),
    ]
    const missing = [
      ...watch.expected.filter((e) => e.required && e.seen === 0).map((e) => `expected HTTP ${e.status} ${e.code} never came`),
      ...watch.failures.filter((f) => f.seen === 0).map((f) => `expected a failed request to ${f.url} that never came`),
    ]
    expect([...unexpected, ...missing], '页面上出现了测试未预期的错误').toEqual([])
  },
})

/** Signs in through the log-in page as a demo account and waits for the console's home page. */
export async function signIn(page: Page, username: string, password: string = PASSWORD): Promise<void> {
  await page.goto('/login')
  await page.getByLabel('账号').fill(username)
  await page.getByLabel('密码').fill(password)
  await page.getByRole('button', { name: '登录' }).click()
  await expect(page).not.toHaveURL(/\/login/)
}

/** A full-page screenshot saved as e2e/screenshots/<name>.png (gitignored). */
export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true })
}

/** axe on the page once its transitions are over (WCAG 2.1 A and AA rules); serious and critical
 *  violations fail. Element Plus fades tags and dialogs in: mid-transition text is partly transparent,
 *  so axe would measure a contrast the settled page does not have (a flaky failure under load). */
export async function checkA11y(page: Page): Promise<void> {
  await page.evaluate(async () => {
    // only those that end (a spinner's infinite rotation never finishes)
    const ending = document.getAnimations().filter((a) => Number.isFinite(Number(a.effect?.getComputedTiming().endTime)))
    await Promise.all(ending.map((animation) => animation.finished.catch(() => undefined)))
  })
  const results = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze()
  const grave = results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)
  expect(grave, `axe: ${page.url()}`).toEqual([])
}
