// The merged API documentation at /docs renders offline: Swagger UI's assets come from the gateway and
// no request leaves 127.0.0.1 (the fixture fails the test on any that does).
import { expect, shot, test } from './fixtures'

test('/docs renders Swagger UI with every service’s operations, from the platform alone', async ({ page }) => {
  test.setTimeout(120_000) // Swagger UI lays out the whole merged document (160 paths) at once
  // The gateway merges the services' documents with a 3 s timeout each and retries a missing one after
  // 5 s; on a loaded machine a service's first, cold /openapi.json can miss the first merge.
  await expect
    .poll(
      async () => {
        const response = await page.request.get('/openapi.json')
        const document = (await response.json()) as { 'x-missing-services'?: string[] }
        return document['x-missing-services'] ?? []
      },
      { timeout: 60_000, intervals: [1_000, 5_000] },
    )
    .toEqual([])
  await page.goto('/docs')
  await expect(page.locator('.swagger-ui .opblock').first()).toBeVisible({ timeout: 30_000 })
  for (const path of ['/api/v1/auth/token', '/api/v1/registry/institutions', '/api/v1/contracts/agreements']) {
    await expect(page.locator(`.opblock-summary-path[data-path="${path}"]`).first()).toBeVisible()
  }
  await expect(page.getByText('暂缺（服务不可达）')).toHaveCount(0)
  await shot(page, 'docs')
})
