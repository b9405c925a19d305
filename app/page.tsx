import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/session";
import { listUserTeams } from "@/lib/teams/access";
import { countMyInvitations } from "@/lib/teams/invitations";

// The landing page sends a vendor to their first team, or to sign in; someone
// in no team goes to their invitations if they have any, else to create one.
export default async function Home() {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  const teams = await listUserTeams(user.id);
  const first = teams[0];
  if (first) redirect(`/t/${first.team.slug}/apps`);
  redirect((await countMyInvitations(user)) > 0 ? "/invitations" : "/teams/new");
}
