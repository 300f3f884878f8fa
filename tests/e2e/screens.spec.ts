import { test, expect, Page } from '@playwright/test';
import { signIn } from './support';

// Screenshots of each page at a desktop and a phone size, for a person to look at (written to
// test-results/screens/), and the layout facts that can be checked: nothing overflows sideways.
const SIZES = [
  { name: 'desktop', width: 1280, height: 800 },
  { name: 'phone', width: 390, height: 844 },
];

async function shoot(page: Page, name: string) {
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(overflow, `${name} scrolls sideways`).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `test-results/screens/${name}.png`, fullPage: false });
}

for (const size of SIZES) {
  test(`pages look right at ${size.name} size`, async ({ page }) => {
    await page.setViewportSize({ width: size.width, height: size.height });
    await page.goto('/');
    await expect(page.getByTestId('sign-in-hero')).toBeVisible();
    await shoot(page, `home-signed-out-${size.name}`);

    await page.getByTestId('sign-in-hero').click();
    await expect(page.getByTestId('consent-agree')).toBeVisible();
    await shoot(page, `consent-${size.name}`);

    await signIn(page);
    await expect(page.getByTestId('user-name')).toHaveText('Alice Fenwick');
    await expect(page.getByTestId('playlist-card').first()).toBeVisible();
    await page.locator('img.cover').first().evaluate((img: HTMLImageElement) => img.decode());
    await shoot(page, `playlists-${size.name}`);

    await page.getByTestId('playlist-card').filter({ hasText: 'Morning Commute' }).click();
    await expect(page.getByTestId('track-row').first()).toBeVisible();
    await page.getByTestId('track-row').nth(1).locator('input[type=checkbox]').check();
    await shoot(page, `playlist-${size.name}`);

    await page.goto('/');
    await page.getByTestId('playlist-card').filter({ hasText: 'Everything, Ever' }).click();
    await expect(page.getByTestId('item-count')).toHaveText('10000 items', { timeout: 30_000 });
    await shoot(page, `playlist-10000-${size.name}`);

    await page.goto('/callback?code=x&state=y');
    await expect(page.getByTestId('error')).toBeVisible();
    await shoot(page, `callback-error-${size.name}`);
  });
}
