import { applyD1Migrations } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, it } from "vitest";
import { BACK_BEFORE_DISABLED, expectReasonsAfterUpgrade, MIGRATIONS_SINCE_DISABLED, rulesTurnedOff } from "../support/earlier-disables.js";
import { gatewayPerTest } from "../support/gateway-per-test.js";

// D1 upgraded by `wrangler d1 migrations apply` (here its twin, applyD1Migrations) from the version before a
// migration: the migration, its data step included, runs on D1 as on libSQL (test/restart.test.ts).

const t = gatewayPerTest({ source: false });

it("a rule turned off before the gateway kept why: after the upgrade, a 410 in its delivery log says so; otherwise no reason", async () => {
  const rules = await rulesTurnedOff(t.gw, t.receiver);
  for (const statement of BACK_BEFORE_DISABLED) await t.gw.sql(statement);
  await t.gw.sql(`DELETE FROM d1_migrations WHERE id IN (SELECT id FROM d1_migrations ORDER BY id DESC LIMIT ${MIGRATIONS_SINCE_DISABLED})`);
  expect(await t.gw.sql("SELECT name FROM d1_migrations ORDER BY id DESC LIMIT 1")).toEqual([{ name: "0005_sweep_indexes.sql" }]);
  // The binding itself: the gateway sees it through the harness's proxy, which applyD1Migrations does not take.
  await applyD1Migrations(env.DB, (env as unknown as { TEST_MIGRATIONS: unknown[] }).TEST_MIGRATIONS);
  await expectReasonsAfterUpgrade(t.gw, rules);
});
