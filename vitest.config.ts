import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Property tests run thousands of cases; keep each file's budget generous but bounded.
    testTimeout: 120_000,
    projects: [
      {
        extends: true,
        test: { name: "model", include: ["test/**/*.test.ts"], exclude: ["test/oracle/**"] },
      },
      {
        // The live-kernel tests share the machine's hugetlb pool, THP mode and ksmd: one file
        // at a time (alongside the model tests, which touch nothing outside the process).
        extends: true,
        test: { name: "oracle", include: ["test/oracle/**/*.test.ts"], fileParallelism: false },
      },
    ],
  },
});
