import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: ['ingest', 'detect', 'api', 'simulators', 'dashboards', 'infra'].map((name) => ({
      extends: true,
      test: { name, root: `./${name}`, include: ['src/**/*.test.ts', 'test/**/*.test.ts'] },
    })),
    // Integration tests start real brokers and servers; keep them bounded.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    passWithNoTests: true,
  },
});
