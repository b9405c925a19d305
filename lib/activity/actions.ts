/** Every activity action, with the words the Activity page shows for it. */
export const ACTIVITY_ACTIONS = {
  "user.signed_up": "signed up",
  "user.signed_in": "signed in",
  "team.created": "created the team",
  "team.renamed": "renamed the team",
  "member.invited": "invited a member",
  "invitation.cancelled": "cancelled an invitation",
  "invitation.accepted": "accepted an invitation",
  "invitation.declined": "declined an invitation",
  "member.role_changed": "changed a member's role",
  "member.removed": "removed a member",
  "member.left": "left the team",
  "api_token.created": "created an API token",
  "api_token.revoked": "revoked an API token",
  "registry.created": "added a registry",
  "registry.updated": "changed a registry",
  "registry.deleted": "deleted a registry",
  "registry.tested": "tested a registry connection",
  "domain.added": "added a custom domain",
  "domain.verified": "verified a custom domain",
  "domain.failed": "lost a custom domain's DNS record (no longer served)",
  "domain.removed": "removed a custom domain",
  "domain.expired": "dropped an unverified custom domain claim",
  "domain.default_changed": "changed the default custom domain",
  "app.domains_changed": "changed an app's custom domains",
  "app.created": "created an app",
  "app.updated": "changed an app",
  "app.patterns_changed": "changed an app's extra image patterns",
  "release.created": "created a release",
  "release.archived": "archived a release",
  "release.unarchived": "unarchived a release",
  "release.reprobed": "re-probed a release",
  "customer.created": "added a customer",
  "customer.updated": "changed a customer",
  "license.revoked": "revoked a license",
  "license.restored": "restored a license",
  "license.expiry_changed": "changed a license's expiry",
  "license.pinned": "pinned a license to releases",
  "image.pushed": "pushed an image",
  "image.tag_deleted": "deleted an image tag",
  "image.manifest_deleted": "deleted an image manifest",
} as const;

export type ActivityAction = keyof typeof ACTIVITY_ACTIONS;

export function describeAction(action: string): string {
  return Object.hasOwn(ACTIVITY_ACTIONS, action) ? ACTIVITY_ACTIONS[action as ActivityAction] : action;
}
