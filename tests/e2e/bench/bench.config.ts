import base from '../playwright.config';
import { defineConfig } from '@playwright/test';

// `cargo xtask bench` runs these: measurements, not assertions about speed.
export default defineConfig({ ...base, testDir: '.', testMatch: /.*\.bench\.ts/, timeout: 600_000 });
