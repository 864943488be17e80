import { defineConfig } from 'vitest/config';

const env = { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'ERROR' };

export default defineConfig({
  test: {
    // Fetches DynamoDB Local once; each test runtime then starts an in-memory engine of its own.
    globalSetup: ['tests/support/global-setup.ts'],
    // TEST_NOW=<instant> runs the tests at that instant (tests/support/test-clock.ts).
    setupFiles: ['tests/support/test-clock.ts'],
    env,
    allowOnly: false,
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'integration', include: ['tests/integration/**/*.test.ts'], testTimeout: 30_000, hookTimeout: 60_000 } },
      { extends: true, test: { name: 'e2e', include: ['tests/e2e/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 120_000 } },
      { extends: true, test: { name: 'infra', include: ['tests/infra/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      // The console in Chromium (OS package) against the real local runtime; builds the console first.
      // Two files at a time, in a group of its own after the other projects (which keep vitest's
      // default: one file at a time on two cores). A browser file leaves a third of two cores idle
      // while its pages wait for polls and timers: the project took 466 s against 623 s one at a time.
      {
        extends: true,
        test: {
          name: 'browser', include: ['tests/browser/**/*.test.ts'], globalSetup: ['tests/browser/build-console.ts'], testTimeout: 120_000, hookTimeout: 120_000,
          maxWorkers: 2, sequence: { groupOrder: 1 },
        },
      },
      { extends: true, test: { name: 'reliability', include: ['tests/reliability/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
    ],
  },
});
