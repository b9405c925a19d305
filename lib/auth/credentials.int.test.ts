import { describe, expect, it } from "vitest";
import { db } from "@/lib/db";
import { checkCredentials } from "@/lib/auth/credentials";
import { signUp } from "@/lib/auth/sign-up";

let n = 0;
const unique = () => `cred-${Date.now()}-${n++}@example.com`;
const PASSWORD = "correct horse battery";

describe("checkCredentials", () => {
  it("accepts the right password (any email case), records sign-in, rejects a wrong one", async () => {
    const email = unique();
    const { team } = await signUp({ email, password: PASSWORD, teamName: "Creds" });
    expect(await checkCredentials(email.toUpperCase(), PASSWORD, "198.51.100.1")).toMatchObject({ email });
    expect(await checkCredentials(email, "wrong password!", "198.51.100.1")).toBeNull();
    expect(await checkCredentials(unique(), PASSWORD, "198.51.100.1")).toBeNull();
    const signIns = await db.activityEvent.findMany({ where: { teamId: team.id, action: "user.signed_in" } });
    expect(signIns).toHaveLength(1);
    expect(signIns[0]?.ip).toBe("198.51.100.1");
  });

  it("locks an (account, address) pair after 5 failures, even with the right password; other addresses still sign in", async () => {
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    for (let i = 0; i < 5; i++) expect(await checkCredentials(email, `wrong-${i}`, "192.0.2.7")).toBeNull();
    await expect(checkCredentials(email, PASSWORD, "192.0.2.7")).rejects.toMatchObject({
      code: "RATE_LIMITED",
      message: expect.stringMatching(/try again later/i),
    });
    // A stranger failing from one address cannot lock the vendor out of their own account.
    expect(await checkCredentials(email, PASSWORD, "192.0.2.200")).toMatchObject({ email });
  });

  it("counts a parallel burst of guesses atomically: no more than the limit are checked", async () => {
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => checkCredentials(email, `burst-${i}`, "192.0.2.77")));
    const checked = results.filter((r) => r.status === "fulfilled").length;
    const limited = results.filter((r) => r.status === "rejected" && (r.reason as { code?: string }).code === "RATE_LIMITED").length;
    expect(checked).toBe(5);
    expect(limited).toBe(20);
    const buckets = await db.rateLimitBucket.findMany({ where: { key: { startsWith: `signin:account-ip:${email}|` } } });
    expect(buckets.reduce((a, b) => a + b.count, 0)).toBe(25);
  });

  it("groups IPv6 addresses by /64", async () => {
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    for (let i = 0; i < 5; i++) expect(await checkCredentials(email, `wrong-${i}`, `2001:db8:77:1::${i + 1}`)).toBeNull();
    await expect(checkCredentials(email, PASSWORD, "2001:db8:77:1:ffff::1")).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(await checkCredentials(email, PASSWORD, "2001:db8:77:2::1")).toMatchObject({ email });
  });

  it("limits one IP guessing across many accounts", async () => {
    const ip = `203.0.113.${(Date.now() % 200) + 1}`;
    for (let i = 0; i < 30; i++) await checkCredentials(unique(), "nope-nope-nope", ip);
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    await expect(checkCredentials(email, PASSWORD, ip)).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(await checkCredentials(email, PASSWORD, "198.51.100.99")).toMatchObject({ email });
  });

  it("clears the account counter after a success", async () => {
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    for (let i = 0; i < 4; i++) await checkCredentials(email, "wrong-wrong", "192.0.2.50");
    expect(await checkCredentials(email, PASSWORD, "192.0.2.51")).not.toBeNull();
    for (let i = 0; i < 4; i++) await checkCredentials(email, "wrong-wrong", "192.0.2.52");
    expect(await checkCredentials(email, PASSWORD, "192.0.2.53")).not.toBeNull();
  });
});
