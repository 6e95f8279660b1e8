import { fileURLToPath } from "node:url";
import { cloudflareTest, readD1Migrations } from "@cloudflare/vitest-pool-workers";
import { defineProject, type Plugin } from "vitest/config";
import { ADMIN_TOKEN, ENCRYPTION_KEY, TEST_OUTBOUND_ALLOW } from "../support/gateway-api.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));

/** Test files shared with the Node suite: they run here unchanged, on the Worker instead of the Node gateway. */
export const SHARED_TESTS = [
  "test/address-policy.test.ts",
  "test/admin-api.test.ts",
  "test/delivery.test.ts",
  "test/expression-turns.test.ts",
  "test/handlebars-helpers.test.ts",
  "test/handlebars-security.test.ts",
  "test/hostile-input.test.ts",
  "test/ingest.test.ts",
  "test/jsonata-paths.test.ts",
  "test/metrics.test.ts",
  "test/openapi-contract.test.ts",
  "test/openapi.test.ts",
  "test/policy.test.ts",
  "test/preset-salesforce.test.ts",
  "test/preset-tradersoft-voipcloud.test.ts",
  "test/rate-limit.test.ts",
  "test/recover.test.ts",
  "test/regex-safety.test.ts",
  "test/replay.test.ts",
  "test/retention.test.ts",
  "test/rotated-credentials.test.ts",
  "test/source-rule-race.test.ts",
  "test/source-voipappz.test.ts",
  "test/source-voipcloud.test.ts",
  "test/source-wildix.test.ts",
  "test/templates.test.ts",
  "test/url-credentials.test.ts",
];

/** Partials and the console's files as text, as wrangler's `Text` rules bundle them for a deployment. */
function textModules(): Plugin {
  const isText = (id: string) => id.endsWith(".hbs") || id.includes("/src/console/assets/");
  return {
    name: "text-modules",
    enforce: "pre",
    transform(code, id) {
      return isText(id) ? { code: `export default ${JSON.stringify(code)};`, map: null } : undefined;
    },
  };
}

const migrations = await readD1Migrations(here("../../src/store/migrations"));

export default defineProject({

  plugins: [
    textModules(),
    cloudflareTest(({ inject }) => ({
      main: here("./queue-worker.ts"),
      wrangler: { configPath: here("../../wrangler.toml") },
      miniflare: {
        // Tests (not the Worker) use node:crypto to sign fixtures as a PBX would; SELF.queue hands the Worker a
        // batch in an invocation of its own.
        compatibilityFlags: ["nodejs_compat", "service_binding_extra_handlers"],
        bindings: {
          TEST_MIGRATIONS: migrations,
          RECEIVER_HUB: inject("receiverHub"),
          SQS_ENDPOINT: inject("sqsEndpoint"),
          // For queue-e2e.test.ts, where the Worker runs on the env of wrangler.toml and these.
          ADMIN_TOKEN: ADMIN_TOKEN,
          ENCRYPTION_KEY: ENCRYPTION_KEY,
          LOG_LEVEL: "silent",
          OUTBOUND_ALLOW: TEST_OUTBOUND_ALLOW,
        },
        queueConsumers: { "call-event-deliveries": { maxBatchTimeout: 0.05 }, "call-event-deliveries-dlq": { maxBatchTimeout: 0.05 } },
      },
    })),
  ],
  resolve: {
    // The shared test files import the Node harness; here they get its workerd twin.
    alias: [
      { find: /^\.\/support\/gateway\.js$/, replacement: here("./gateway.ts") },
      { find: /^\.\/support\/receiver\.js$/, replacement: here("./receiver.ts") },
      // Support files that start one for them (gateway-per-test.ts) get the twin as well.
      { find: /^\.\/gateway\.js$/, replacement: here("./gateway.ts") },
      { find: /^\.\/receiver\.js$/, replacement: here("./receiver.ts") },
    ],
  },
  test: {
    name: "workerd",
    root,
    include: [...SHARED_TESTS, "test/workerd/**/*.test.ts"],
    globalSetup: [here("./receiver-hub.ts"), here("./sqs-server.ts")],
    // One D1 per project: test files take turns, each resetting it.
    fileParallelism: false,
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
