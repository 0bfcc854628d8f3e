import { defineConfig } from '@playwright/test';

// End-to-end tests run the built extension (.output/chrome-mv3) in Debian's Chromium against
// the backend and the demo CRM, both served on 127.0.0.1 by the fixtures in test/e2e/harness.ts.
export default defineConfig({
  testDir: 'test/e2e',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1, // 2 cores: one browser at a time keeps timings honest
  retries: 0,
  reporter: [['list']],
  // Traces help locally; in CI a worker replaced after a failure has lost its trace files
  // (ENOENT) and failed the next test with it.
  use: { trace: process.env.CI ? 'off' : 'retain-on-failure' },
});
