import { NextRequest } from "next/server";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { SIGN_UP_REFUSED, signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { resetEnvForTests } from "@/lib/env";
import { apiRoute } from "@/lib/http/api-route";
import { CLIENT_IP_HEADER } from "@/lib/net/client-ip";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { createApp } from "@/lib/apps/apps";
import { runPreview } from "@/lib/rewrite/preview";
import { hit, peek } from "./fixed-window";

/** Request limits on /api/v1, sign-up and the preview: shared counters in the DB, 429 + Retry-After. */
let ctx: TeamContext;
let token = "";
let n = 0;
const unique = (tag: string) => `${tag}-${Date.now()}-${n++}@example.com`;
const saved = { ...process.env };

/** The limits count per minute (fixed windows): start a sequence early in one, so it cannot straddle two. */
async function freshMinute(): Promise<void> {
  const into = Date.now() % 60_000;
  if (into > 30_000) await new Promise((r) => setTimeout(r, 60_000 - into + 50));
}

function withEnv(vars: Record<string, string>) {
  Object.assign(process.env, vars);
  resetEnvForTests();
}
afterEach(() => {
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
  resetEnvForTests();
});

beforeAll(async () => {
  const { user, team } = await signUp({ email: unique("limits"), password: "correct horse battery", teamName: "Limits" });
  ctx = await teamContextForUser(user, team.slug, "team:view");
  token = (await createApiToken(ctx, { name: "ci" })).token;
});

const route = apiRoute({ permission: "team:view" }, async (c) => ({ body: { team: c.team.slug } }));
const call = (ip: string, bearer = token) =>
  route(new NextRequest("http://gantry.test/api/v1/team", { headers: { authorization: `Bearer ${bearer}`, [CLIENT_IP_HEADER]: ip } }), { params: Promise.resolve({}) });

beforeEach(freshMinute);

describe("fixed-window counters", () => {
  it("count every one of N concurrent hits (one atomic upsert each)", async () => {
    const key = `test:atomic:${Date.now()}`;
    const states = await Promise.all(Array.from({ length: 50 }, () => hit(key, 20, 60)));
    expect(states.map((s) => s.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(states.filter((s) => !s.limited)).toHaveLength(20);
    expect(await peek(key, 20, 60)).toMatchObject({ limited: true, count: 50 });
  });

  it("start a new window when the old one ends", async () => {
    const key = `test:window:${Date.now()}`;
    const t0 = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 1000);
    await hit(key, 1, 60, t0);
    expect((await hit(key, 1, 60, t0)).limited).toBe(true);
    expect((await hit(key, 1, 60, new Date(t0.getTime() + 60_000))).limited).toBe(false);
  });
});

describe("/api/v1 limits", () => {
  it("answers 429 with Retry-After and the documented error body past the per-token limit, and never caches", async () => {
    withEnv({ GANTRY_API_RATE_PER_TOKEN: "3" });
    const fresh = (await createApiToken(ctx, { name: "limited" })).token;
    const responses = await Promise.all(Array.from({ length: 6 }, () => call("198.51.100.10", fresh)));
    expect(responses.map((r) => r.status).sort()).toEqual([200, 200, 200, 429, 429, 429]);
    const limited = responses.find((r) => r.status === 429);
    expect(limited?.headers.get("retry-after")).toMatch(/^[1-9]\d*$/);
    expect(await limited?.json()).toEqual({ error: { code: "RATE_LIMITED", message: expect.stringMatching(/Too many requests with this API token/) } });
    for (const r of responses) expect(r.headers.get("cache-control")).toBe("no-store");
    // Another token of the same team has its own budget.
    expect((await call("198.51.100.10")).status).toBe(200);
  });

  it("limits an address before the token is checked, so guessing tokens is limited too", async () => {
    withEnv({ GANTRY_API_RATE_PER_IP: "4" });
    const ip = `203.0.113.${(Date.now() % 250) + 1}`;
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(ip, `gnt_guess${i}`)).status);
    expect(statuses).toEqual([401, 401, 401, 401, 429, 429]);
    expect((await call(ip)).status).toBe(429); // a valid token from the same address too
  });
});

describe("sign-up and preview limits", () => {
  it("limits sign-ups per address and says the same for a taken email", async () => {
    withEnv({ GANTRY_SIGNUP_RATE_PER_IP: "2" });
    const ip = "2001:db8:5:5::1";
    const email = unique("su");
    await signUp({ email, password: "correct horse battery", teamName: "One" }, ip);
    await expect(signUp({ email, password: "correct horse battery", teamName: "Two" }, "2001:db8:5:5::2")).rejects.toMatchObject({ code: "CONFLICT", message: SIGN_UP_REFUSED });
    // Same /64: the third sign-up is over the limit.
    await expect(signUp({ email: unique("su"), password: "correct horse battery", teamName: "Three" }, "2001:db8:5:5::3")).rejects.toMatchObject({ code: "RATE_LIMITED", retryAfterSeconds: expect.any(Number) });
    const users = await db.user.count({ where: { email } });
    expect(users).toBe(1);
  });

  it("limits previews per caller", async () => {
    withEnv({ GANTRY_PREVIEW_RATE_PER_CALLER: "2" });
    const slug = `lim-${Date.now().toString(36)}`;
    await createApp(ctx, { name: "Limited", slug });
    const c: TeamContext = { ...ctx, actor: { type: "user", label: "preview caller", id: `preview-caller-${Date.now()}` } };
    await runPreview(c, slug, { images: ["Invalid:Ref"] });
    await runPreview(c, slug, { images: ["Invalid:Ref"] });
    await expect(runPreview(c, slug, { images: ["Invalid:Ref"] })).rejects.toMatchObject({ code: "RATE_LIMITED" });
  });
});
