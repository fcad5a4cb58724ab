import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Property tests run thousands of cases; keep each file's budget generous but bounded.
    testTimeout: 120_000,
  },
});
