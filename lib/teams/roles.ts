/**
 * Roles and what each may do. `can()` fails closed: an unknown role or an
 * unknown permission is refused.
 */
export const ROLES = ["owner", "admin", "member"] as const;
export type Role = (typeof ROLES)[number];

const MANAGERS: readonly Role[] = ["owner", "admin"];
const EVERYONE: readonly Role[] = ROLES;

export const PERMISSIONS = {
  "team:view": EVERYONE,
  "team:rename": MANAGERS,
  "member:invite": MANAGERS,
  "member:change-role": MANAGERS,
  "member:remove": MANAGERS,
  "activity:view": EVERYONE,
  "api-token:manage": MANAGERS,
  "registry:view": EVERYONE,
  "registry:manage": MANAGERS,
  /** Custom domains (lib/domains): see them; add, verify, delete and pick defaults. */
  "domain:view": EVERYONE,
  "domain:manage": MANAGERS,
  "app:view": EVERYONE,
  "app:manage": MANAGERS,
  "customer:manage": MANAGERS,
  "license:view-secret": MANAGERS,
  "license:revoke": MANAGERS,
  /** Gantry's own registry: push and delete images of the team's apps; pull them. */
  "image:push": MANAGERS,
  "image:delete": MANAGERS,
  "image:pull": EVERYONE,
} as const satisfies Record<string, readonly Role[]>;

export type Permission = keyof typeof PERMISSIONS;

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

export function can(role: unknown, permission: unknown): boolean {
  if (!isRole(role) || typeof permission !== "string") return false;
  if (!Object.hasOwn(PERMISSIONS, permission)) return false;
  const allowed: readonly Role[] = PERMISSIONS[permission as Permission];
  return allowed.includes(role);
}

/**
 * Who may set which role on whom. Only owners grant or take away ownership;
 * admins manage admins and members.
 */
export function canAssignRole(actor: Role, targetCurrent: Role, targetNext: Role): boolean {
  if (!can(actor, "member:change-role")) return false;
  if (actor === "owner") return true;
  return targetCurrent !== "owner" && targetNext !== "owner";
}

export function canRemoveMember(actor: Role, target: Role): boolean {
  if (!can(actor, "member:remove")) return false;
  return actor === "owner" || target !== "owner";
}
