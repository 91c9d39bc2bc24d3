// The browser suite (web/e2e) on Debian's chromium against the real stack: e2e/global-setup.ts starts
// deploy/local/run.py with the built console (the Makefile builds it first; the suite builds nothing).
import { defineConfig } from '@playwright/test'

import { GATEWAY, PORTS } from './e2e/stack'

const ci = process.env.CI === 'true'

export default defineConfig({
  testDir: './e2e',
  // per stack: runs on other E2E_PORTS in the same checkout do not wipe each other's traces
  outputDir: `./e2e/results/${PORTS[0] ?? 'default'}`,
  globalSetup: './e2e/global-setup.ts',
  workers: 1, // two cores, and the stack's five processes share them
  fullyParallel: false,
  retries: 0,
  forbidOnly: ci,
  reporter: [['list']],
  timeout: 30_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: GATEWAY,
    headless: true,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium' },
  },
  projects: [{ name: 'chromium', use: { browserName: 'chromium' } }],
})
