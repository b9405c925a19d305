import { NextRequest } from "next/server";
import { beforeAll, describe, expect, it } from "vitest";
import { GET as pullsRoute } from "@/app/api/v1/licenses/[license]/pulls/route";
import { createApiToken } from "@/lib/api-tokens/tokens";
import { createApp } from "@/lib/apps/apps";
import { signUp } from "@/lib/auth/sign-up";
import { db } from "@/lib/db";
import { createCustomer } from "@/lib/licenses/customers";
import { listLicensePulls, listTeamPulls } from "@/lib/licenses/pulls";
import { flushPulls, recordPull } from "@/lib/proxy/pull-log";
import { teamContextForUser } from "@/lib/teams/access";

/** Byte counters are BigInt: a 5 GiB layer is logged, and read back as a plain JSON number. */
const FIVE_GIB = 5 * 2 ** 30;
let teamId = "";
let appId = "";
let license = { id: "" };
let token = "";

beforeAll(async () => {
  const { user, team } = await signUp({ email: `big-pulls-${Date.now()}@example.com`, password: "correct horse battery", teamName: "Big pulls" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  teamId = team.id;
  const slug = `big-${Date.now().toString(36)}`;
  appId = (await createApp(ctx, { name: "Big", slug })).id;
  const created = (await createCustomer(ctx, slug, { name: "Big customer" })).license;
  license = { id: created.id };
  token = (await createApiToken(ctx, { name: "ci" })).token;
});

describe("a pull of more than 2^31 bytes", () => {
  it("is recorded (through the pull-log writer thread) and read back exactly by the lib and the API", async () => {
    recordPull({
      teamId,
      appId,
      licenseId: license.id,
      repository: "acme/huge",
      kind: "blobs",
      reference: `sha256:${"a".repeat(64)}`,
      method: "GET",
      status: 200,
      bytesSent: FIVE_GIB,
      durationMs: 61_000,
      clientIp: "10.0.0.1",
      userAgent: "containerd/2.0",
    });
    await flushPulls();

    const row = await db.pullEvent.findFirstOrThrow({ where: { licenseId: license.id } });
    expect(row.bytesSent).toBe(BigInt(FIVE_GIB));

    const [pull] = await listLicensePulls(teamId, license.id);
    expect(pull?.bytesSent).toBe(FIVE_GIB);
    expect(typeof pull?.bytesSent).toBe("number");
    const [teamPull] = await listTeamPulls(teamId);
    expect(teamPull?.bytesSent).toBe(FIVE_GIB);

    const res = await pullsRoute(
      new NextRequest(`http://gantry.test/api/v1/licenses/${license.id}/pulls`, { headers: { authorization: `Bearer ${token}` } }),
      { params: Promise.resolve({ license: license.id }) },
    );
    expect(res.status).toBe(200);
    const body = (await res.json()) as { pulls: { bytesSent: number; repository: string }[] };
    expect(body.pulls).toHaveLength(1);
    expect(body.pulls[0]).toMatchObject({ repository: "acme/huge", bytesSent: FIVE_GIB });
  });
});
