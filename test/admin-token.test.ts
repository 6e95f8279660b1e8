import { afterEach, describe, expect, it } from "vitest";
import { rotateAdminToken } from "../src/api/admin-token.js";
import { startGateway, type TestGateway } from "./support/gateway.js";

// The admin token the Node gateway generates when ADMIN_TOKEN is not set: only its hash is stored, and it is
// looked up at each check. (ADMIN_TOKEN itself, and the limit on wrong tokens, are in rate-limit.test.ts.)

let gw: TestGateway;
afterEach(() => gw.stop());

const sources = (token: string) => gw.send("/api/sources", { headers: { authorization: `Bearer ${token}` } });

describe("the stored admin token", () => {
  it("is replaced at once in the running gateway, as npm run admin-token does", async () => {
    gw = await startGateway({ adminToken: null });
    const first = gw.generatedAdminToken!;
    expect(first).toMatch(/^adm_/);
    expect((await sources(first)).status).toBe(200);
    const next = await rotateAdminToken(gw.store);
    expect((await sources(next)).status).toBe(200);
    expect((await sources(first)).status).toBe(401);
  });

  it("lets wrong tokens sent at once get no more checks than the failure budget has", async () => {
    gw = await startGateway({ adminToken: null });
    // The stored hash is read for each check, so checks overlap: each must hold its token of the budget.
    const answers = await Promise.all(Array.from({ length: 60 }, (_, i) => sources(`adm_wrong-${i}`)));
    expect(answers.filter((answer) => answer.status === 401)).toHaveLength(10);
    expect(answers.filter((answer) => answer.status === 429)).toHaveLength(50);
    expect((await sources(gw.generatedAdminToken!)).status).toBe(429);
  });

  it("answers every right token sent at once, more of them than the failure budget has, beside wrong ones", async () => {
    gw = await startGateway({ adminToken: null });
    const right = Array.from({ length: 60 }, () => sources(gw!.generatedAdminToken!));
    const wrong = Array.from({ length: 4 }, (_, i) => sources(`adm_wrong-${i}`));
    const answers = await Promise.all([...right, ...wrong]);
    expect(answers.slice(0, 60).map((answer) => answer.status)).toEqual(Array(60).fill(200));
    expect(answers.slice(60).map((answer) => answer.status)).toEqual(Array(4).fill(401));
    // The four wrong ones spent four of the ten: six more are checked, then 429.
    const more = await Promise.all(Array.from({ length: 8 }, (_, i) => sources(`adm_again-${i}`)));
    expect(more.map((answer) => answer.status).sort()).toEqual([...Array(6).fill(401), 429, 429]);
  });
});
