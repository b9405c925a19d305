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

  it("locks an account after 5 failures, even with the right password, from any IP", async () => {
    const email = unique();
    await signUp({ email, password: PASSWORD, teamName: "Creds" });
    for (let i = 0; i < 5; i++) expect(await checkCredentials(email, `wrong-${i}`, `192.0.2.${i}`)).toBeNull();
    await expect(checkCredentials(email, PASSWORD, "192.0.2.200")).rejects.toMatchObject({
      code: "RATE_LIMITED",
      message: expect.stringMatching(/try again later/i),
    });
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
