import { describe, expect, it } from "vitest";
import { can, canAssignRole, canRemoveMember, PERMISSIONS, ROLES } from "@/lib/teams/roles";

describe("permission map", () => {
  it("lets owners and admins manage, and members only view", () => {
    for (const p of ["member:invite", "registry:manage", "license:revoke", "api-token:manage"] as const) {
      expect(can("owner", p)).toBe(true);
      expect(can("admin", p)).toBe(true);
      expect(can("member", p)).toBe(false);
    }
    for (const p of ["team:view", "activity:view", "registry:view", "app:view"] as const) {
      for (const r of ROLES) expect(can(r, p)).toBe(true);
    }
  });

  it("fails closed for unknown roles, unknown permissions and non-strings", () => {
    expect(can("superuser", "team:view")).toBe(false);
    expect(can(undefined, "team:view")).toBe(false);
    expect(can("owner", "team:delete-everything")).toBe(false);
    expect(can("owner", "toString")).toBe(false);
    expect(can("owner", "__proto__")).toBe(false);
    expect(can("owner", 42)).toBe(false);
    expect(can(null, null)).toBe(false);
  });

  it("gives every permission at least one role and only known roles", () => {
    for (const roles of Object.values(PERMISSIONS)) {
      expect(roles.length).toBeGreaterThan(0);
      for (const r of roles) expect(ROLES).toContain(r);
    }
  });

  it("keeps ownership in owners' hands", () => {
    expect(canAssignRole("owner", "member", "owner")).toBe(true);
    expect(canAssignRole("owner", "owner", "admin")).toBe(true);
    expect(canAssignRole("admin", "member", "admin")).toBe(true);
    expect(canAssignRole("admin", "member", "owner")).toBe(false);
    expect(canAssignRole("admin", "owner", "member")).toBe(false);
    expect(canAssignRole("member", "member", "admin")).toBe(false);
    expect(canRemoveMember("admin", "member")).toBe(true);
    expect(canRemoveMember("admin", "owner")).toBe(false);
    expect(canRemoveMember("owner", "owner")).toBe(true);
    expect(canRemoveMember("member", "member")).toBe(false);
  });
});
