import { test, expect, Page } from '@playwright/test';
import { APP, STAND_IN, signIn } from './support';

// The app is served with the production security headers (xtask/src/dist.rs, deploy/setlist.json), the stand-in's
// origin standing in for Spotify's. Signing in, opening, editing and saving a playlist must not trip the CSP once.

interface Violation { directive: string; blocked: string; source: string; sample: string }

async function watchViolations(page: Page): Promise<{ violations: Violation[]; errors: string[] }> {
  const violations: Violation[] = [];
  const errors: string[] = [];
  await page.exposeFunction('__cspViolation', (v: Violation) => violations.push(v));
  await page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      (window as unknown as { __cspViolation: (v: unknown) => void }).__cspViolation({
        directive: e.violatedDirective,
        blocked: e.blockedURI,
        source: `${e.sourceFile}:${e.lineNumber}`,
        sample: e.sample,
      });
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { violations, errors };
}

test('the production CSP and security headers are served', async ({ request }) => {
  for (const path of ['/', '/callback', '/playlist/37i9dQZF1DXcBWIGoYBM5M']) {
    const r = await request.get(`${APP}${path}`);
    expect(r.status()).toBe(200);
    const h = r.headers();
    const csp = h['content-security-policy'];
    expect(csp, path).toBeTruthy();
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain(`connect-src 'self' ${STAND_IN}`);
    expect(h['referrer-policy']).toBe('no-referrer');
    expect(h['x-content-type-options']).toBe('nosniff');
    expect(h['cross-origin-opener-policy']).toBe('same-origin');
    // No inline script left in the page: Trunk's loader was moved to a file.
    const html = await r.text();
    for (const m of html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)) {
      expect(m[1], 'every script has a src').toContain('src=');
      expect(m[2].trim()).toBe('');
    }
  }
});

test('sign in, open, edit and save under the CSP with zero violations', async ({ page }) => {
  const { violations, errors } = await watchViolations(page);

  await signIn(page);
  await expect(page.getByTestId('playlists-page')).toBeVisible();
  await expect(page.getByTestId('playlist-card').first()).toBeVisible();

  const name = `CSP Mix ${Date.now()}`;
  await page.getByTestId('new-playlist-name').fill(name);
  await page.getByTestId('create-playlist').click();
  await page.waitForURL(/\/playlist\/[A-Za-z0-9]{22}$/);

  await page.getByTestId('search-input').fill('love');
  await page.getByTestId('search-button').click();
  const hits = page.getByTestId('add-hit');
  await expect(hits.first()).toBeVisible();
  await hits.nth(0).click();
  await hits.nth(1).click();
  await expect(page.getByTestId('track-row')).toHaveCount(2);
  await page.getByTestId('save').click();
  await expect(page.getByTestId('dirty-state')).toHaveText('All changes saved');

  // A reload of an app route (served by SPA fallback) boots again under the same policy.
  await page.reload();
  await expect(page.getByTestId('track-row')).toHaveCount(2);
  // Cover art and avatars from the stand-in load (img-src), so a blocked image would have shown up above.
  await page.goto('/');
  await expect(page.getByTestId('playlist-card').first()).toBeVisible();

  const cspErrors = errors.filter((e) => /content security policy|refused to/i.test(e));
  expect(violations, JSON.stringify(violations, null, 2)).toEqual([]);
  expect(cspErrors).toEqual([]);
});
