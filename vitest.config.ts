import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Dawn and llvmpipe share the machine's two cores; one file at a time keeps GPU tests from starving.
    fileParallelism: true,
    maxWorkers: 2,
  },
});
