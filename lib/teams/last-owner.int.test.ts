import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { teamContextForUser, type TeamContext } from "@/lib/teams/access";
import { acceptInvitation, inviteMember } from "@/lib/teams/invitations";
import { changeMemberRole, removeMember } from "@/lib/teams/members";

// Two owners demoting or removing each other (and themselves) at once, through
// the real functions: with the in-transaction owner count gone, both succeed
// and the team is left without an owner.
const N = 20;
let n = 0;
const email = (p: string) => `${p}-${Date.now()}-${n++}@example.com`;
const PASSWORD = "correct horse battery";

async function twoOwners() {
  const a = await signUp({ email: email("owner-a"), password: PASSWORD, teamName: "Owners" });
  const ctxA = await teamContextForUser(a.user, a.team.slug, "team:view");
  const bEmail = email("owner-b");
  const b = await signUp({ email: bEmail, password: PASSWORD, teamName: "Own team" });
  const { invitation } = await inviteMember(ctxA, { email: bEmail, role: "owner" });
  await acceptInvitation(b.user, invitation.id);
  const ctxB = await teamContextForUser(b.user, a.team.slug, "team:view");
  const [mA, mB] = await Promise.all([
    db.membership.findUniqueOrThrow({ where: { teamId_userId: { teamId: a.team.id, userId: a.user.id } } }),
    db.membership.findUniqueOrThrow({ where: { teamId_userId: { teamId: a.team.id, userId: b.user.id } } }),
  ]);
  return { teamId: a.team.id, ctxA, ctxB, mA: mA.id, mB: mB.id };
}

const owners = (teamId: string) => db.membership.count({ where: { teamId, role: "owner" } });

async function race(calls: (() => Promise<unknown>)[]) {
  const results = await Promise.allSettled(calls.map((c) => c()));
  const codes = results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as { code?: string }).code ?? String(r.reason));
  expect(codes.every((c) => c === "CONFLICT"), codes.join(",")).toBe(true);
  return results.filter((r) => r.status === "fulfilled").length;
}

describe("the last owner under concurrency", () => {
  it(`${N} concurrent demotions of a team's two owners (each demoting the other and themselves): one owner remains`, async () => {
    const t = await twoOwners();
    const calls: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < N / 4; i++) {
      calls.push(() => changeMemberRole(t.ctxA, t.mB, "admin"));
      calls.push(() => changeMemberRole(t.ctxB, t.mA, "member"));
      calls.push(() => changeMemberRole(t.ctxA, t.mA, "admin"));
      calls.push(() => changeMemberRole(t.ctxB, t.mB, "member"));
    }
    // A call that reads the member after the winning change committed finds nothing to change and
    // succeeds without writing (slow machines serialise more of them): what must hold is one owner
    // left and exactly one change made and logged.
    expect(await race(calls)).toBeGreaterThanOrEqual(1);
    expect(await owners(t.teamId)).toBe(1);
    expect(await db.activityEvent.count({ where: { teamId: t.teamId, action: "member.role_changed" } })).toBe(1);
  });

  it(`${N} concurrent removals and leaves of a team's two owners: one owner remains`, async () => {
    const t = await twoOwners();
    const calls: (() => Promise<unknown>)[] = [];
    for (let i = 0; i < N / 4; i++) {
      calls.push(() => removeMember(t.ctxA, t.mB));
      calls.push(() => removeMember(t.ctxB, t.mA));
      calls.push(() => removeMember(t.ctxA, t.mA)); // leaving
      calls.push(() => removeMember(t.ctxB, t.mB)); // leaving
    }
    expect(await race(calls)).toBe(1);
    expect(await owners(t.teamId)).toBe(1);
    expect(await db.membership.count({ where: { teamId: t.teamId } })).toBe(1);
  });

  it(`demotions and removals mixed (${N} calls): one owner remains`, async () => {
    const t = await twoOwners();
    const ops: ((c: { A: TeamContext; B: TeamContext }) => Promise<unknown>)[] = [
      ({ A }) => changeMemberRole(A, t.mB, "admin"),
      ({ B }) => removeMember(B, t.mA),
      ({ A }) => removeMember(A, t.mA),
      ({ B }) => changeMemberRole(B, t.mB, "member"),
    ];
    const calls = Array.from({ length: N }, (_, i) => () => ops[i % ops.length]!({ A: t.ctxA, B: t.ctxB }));
    expect(await race(calls)).toBe(1);
    expect(await owners(t.teamId)).toBe(1);
  });
});
