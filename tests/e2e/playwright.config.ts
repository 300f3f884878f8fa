import { defineConfig } from '@playwright/test';

// Started by `cargo xtask test`, which builds and starts the stand-in and the app and passes their URLs.
const appUrl = process.env.SETLIST_APP_URL;
if (!appUrl || !process.env.SETLIST_STAND_IN_URL) {
  throw new Error('Run these through `cargo xtask test e2e` (SETLIST_APP_URL / SETLIST_STAND_IN_URL unset).');
}

export default defineConfig({
  testDir: '.',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  // The specs share one stand-in and read its global request log: one at a time.
  workers: 1,
  fullyParallel: false,
  forbidOnly: true,
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: appUrl,
    screenshot: 'only-on-failure',
    trace: 'off',
    launchOptions: {
      // Debian's Chromium; Playwright never downloads a browser here.
      executablePath: '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        '--disable-dev-shm-usage',
      ],
    },
  },
});
