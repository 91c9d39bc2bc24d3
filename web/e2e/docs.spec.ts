// The merged API documentation at /docs renders offline: Swagger UI's assets come from the gateway and
// no request leaves 127.0.0.1 (the fixture fails the test on any that does).
import { expect, shot, test } from './fixtures'

test('/docs renders Swagger UI with the operations, from the platform alone', async ({ page }) => {
  await page.goto('/docs')
  await expect(page.locator('.swagger-ui .opblock').first()).toBeVisible()
  await expect(page.getByText('/api/v1/auth/token').first()).toBeVisible()
  expect(await page.locator('.swagger-ui .opblock').count()).toBeGreaterThan(20)
  await shot(page, 'docs')
})
