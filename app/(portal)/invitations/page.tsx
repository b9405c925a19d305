import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { MailOpen } from "lucide-react";
import { buttonVariants } from "@/components/ui/button";
import { EmptyState } from "@/components/ui/empty-state";
import { currentUser } from "@/lib/auth/session";
import { listMyInvitations } from "@/lib/teams/invitations";
import { InvitationCard } from "./invitation-card";

export const metadata: Metadata = { title: "Invitations" };

/** The signed-in user's pending team invitations (for their account email). */
export default async function InvitationsPage() {
  const user = await currentUser();
  if (!user) redirect("/sign-in?callbackUrl=/invitations");
  const invitations = await listMyInvitations(user);
  return (
    <main className="mx-auto grid max-w-2xl gap-6 px-4 py-10 sm:py-16">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-2xl font-semibold tracking-tight">Invitations</h1>
          <p className="mt-1 text-sm text-zinc-600">
            Teams that invited <span className="break-all font-medium text-zinc-900">{user.email}</span>. You join a team only when you accept.
          </p>
        </div>
        <Link href="/" className={buttonVariants({ variant: "outline", size: "sm" })}>
          Back to Gantry
        </Link>
      </div>
      {invitations.length === 0 ? (
        <EmptyState
          icon={MailOpen}
          title="No pending invitations"
          description="When an owner or admin invites your email to a team, the invitation appears here."
          action={
            <Link href="/teams/new" className={buttonVariants({ variant: "outline" })}>
              Create a team
            </Link>
          }
        />
      ) : (
        <div className="grid gap-4" data-testid="my-invitations">
          {invitations.map((inv) => (
            <InvitationCard
              key={inv.id}
              invitation={{ id: inv.id, role: inv.role, teamName: inv.team.name, teamSlug: inv.team.slug, invitedByLabel: inv.invitedByLabel, expiresAt: inv.expiresAt.toISOString() }}
            />
          ))}
        </div>
      )}
    </main>
  );
}
