import { defineConfig } from 'vitest/config';

// The browser test (e2e/): Playwright driving Debian's Chromium against a
// running `detour serve`. The Go test TestDashboardInBrowser starts the
// gateway with fake providers and runs this with DETOUR_URL set.
export default defineConfig({
  test: {
    include: ['e2e/**/*.e2e.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // One browser, one gateway: the tests run in order and share them.
    fileParallelism: false,
    sequence: { concurrent: false },
  },
});
