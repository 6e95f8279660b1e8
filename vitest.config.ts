import { defineConfig } from "vitest/config";

// `npm test` runs both suites: the gateway on Node, and the same behaviour inside workerd.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "node",
          include: ["test/**/*.test.ts"],
          exclude: ["test/workerd/**"],
          testTimeout: 20_000,
          hookTimeout: 20_000,
        },
      },
      "./test/workerd/vitest.config.ts",
    ],
  },
});
