import { describe, expect, it } from "vitest";
import { ZodError } from "zod";
import { db } from "@/lib/db";
import { signUp } from "@/lib/auth/sign-up";
import { listActivity } from "@/lib/activity/list";
import { createApp } from "@/lib/apps/apps";
import { createCustomer, listCustomers, revokeLicense } from "@/lib/licenses/customers";
import { encodeCursor } from "@/lib/pagination/keyset";
import { teamContextForUser } from "@/lib/teams/access";

let n = 0;
const uniq = () => `${Date.now().toString(36)}${n++}`;

async function appWithCustomers(count: number) {
  const { user, team } = await signUp({ email: `pages-${uniq()}@example.com`, password: "correct horse battery", teamName: "Pages" });
  const ctx = await teamContextForUser(user, team.slug, "team:view");
  const slug = `pages-${uniq()}`;
  const app = await createApp(ctx, { name: "Pages", slug });
  const created = [];
  for (let i = 0; i < count; i++) created.push(await createCustomer(ctx, slug, { name: `Customer ${i}` }));
  return { ctx, app, slug, created };
}

/** Every page of a listing, following nextCursor; `between` runs after each page. */
async function allPages(list: (before?: string) => Promise<{ customers: { id: string }[]; nextCursor: string | null }>, between?: () => Promise<unknown>) {
  const pages: string[][] = [];
  let before: string | undefined;
  for (;;) {
    const page = await list(before);
    pages.push(page.customers.map((c) => c.id));
    if (!page.nextCursor) return pages;
    before = page.nextCursor;
    if (between) await between();
  }
}

describe("customer pages (keyset on createdAt, id)", () => {
  it("revoking the last customer of page 1 of 'active' does not empty page 2", async () => {
    const { ctx, app } = await appWithCustomers(7);
    const active = (before?: string) => listCustomers(ctx.team.id, { appId: app.id, state: "active", pageSize: 3, before });
    const first = await active();
    expect(first.customers).toHaveLength(3);
    expect(first.nextCursor).not.toBeNull();
    await revokeLicense(ctx, first.customers[2]!.license!.id, "left the filter");
    const second = await active(first.nextCursor!);
    expect(second.customers.map((c) => c.name)).toEqual(["Customer 3", "Customer 2", "Customer 1"]);
    const third = await active(second.nextCursor!);
    expect(third.customers.map((c) => c.name)).toEqual(["Customer 0"]);
    expect(third.nextCursor).toBeNull();
  });

  it("a deleted cursor row does not end the listing either", async () => {
    const { ctx, app } = await appWithCustomers(5);
    const list = (before?: string) => listCustomers(ctx.team.id, { appId: app.id, pageSize: 2, before });
    const first = await list();
    await db.customer.delete({ where: { id: first.customers[1]!.id } });
    expect((await list(first.nextCursor!)).customers.map((c) => c.name)).toEqual(["Customer 2", "Customer 1"]);
  });

  it("pages never repeat or skip a row while customers are inserted concurrently (ties on createdAt included)", async () => {
    const { ctx, app, slug, created } = await appWithCustomers(12);
    // Ten more sharing one createdAt, so page boundaries fall inside a tie and the id decides.
    const tie = new Date(created[5]!.createdAt.getTime());
    for (let i = 0; i < 10; i++) {
      await db.customer.create({ data: { teamId: ctx.team.id, appId: app.id, name: `Tie ${i}`, type: "paid", searchText: `tie ${i}`, createdAt: tie } });
    }
    const before = await db.customer.findMany({ where: { appId: app.id }, select: { id: true } });
    let k = 0;
    const insertSome = () => Promise.all(Array.from({ length: 3 }, () => createCustomer(ctx, slug, { name: `Late ${k++}` })));
    const pagesPromise = allPages((c) => listCustomers(ctx.team.id, { appId: app.id, pageSize: 4, before: c }), insertSome);
    const [pages] = await Promise.all([pagesPromise, ...Array.from({ length: 20 }, (_, i) => createCustomer(ctx, slug, { name: `Racing ${i}` }))]);
    const seen = pages.flat();
    expect(new Set(seen).size, "a row repeated").toBe(seen.length);
    for (const { id } of before) expect(seen, `skipped ${id}`).toContain(id);
    // And the order the pages give is the (createdAt desc, id desc) order of what they returned.
    const rows = await db.customer.findMany({ where: { id: { in: seen } }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } });
    expect(seen).toEqual(rows.map((r) => r.id));
  });

  it("a malformed cursor is a validation error, not a crash or an empty page", async () => {
    const { ctx, app, created } = await appWithCustomers(1);
    await expect(listCustomers(ctx.team.id, { appId: app.id, before: created[0]!.id })).rejects.toBeInstanceOf(ZodError);
    await expect(listCustomers(ctx.team.id, { appId: app.id, before: "%%%" })).rejects.toBeInstanceOf(ZodError);
    await expect(listActivity(ctx.team.id, { before: "not-a-cursor" })).rejects.toBeInstanceOf(ZodError);
    // A well-formed cursor for a row that never existed is simply a position.
    const page = await listCustomers(ctx.team.id, { appId: app.id, before: encodeCursor({ createdAt: new Date(Date.now() + 60_000), id: "zzz" }) });
    expect(page.customers.map((c) => c.id)).toEqual([created[0]!.id]);
  });
});

describe("activity pages", () => {
  it("walk every event once, newest first", async () => {
    const { ctx } = await appWithCustomers(6);
    const all = await db.activityEvent.findMany({ where: { teamId: ctx.team.id }, orderBy: [{ createdAt: "desc" }, { id: "desc" }], select: { id: true } });
    const seen: string[] = [];
    let before: string | undefined;
    do {
      const page = await listActivity(ctx.team.id, { before, pageSize: 2 });
      seen.push(...page.events.map((e) => e.id));
      before = page.nextCursor ?? undefined;
    } while (before);
    expect(seen).toEqual(all.map((e) => e.id));
  });
});
