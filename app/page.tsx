import { redirect } from "next/navigation";
import { currentUser } from "@/lib/auth/session";
import { listUserTeams } from "@/lib/teams/access";

// The landing page sends a vendor to their first team, or to sign in.
export default async function Home() {
  const user = await currentUser();
  if (!user) redirect("/sign-in");
  const teams = await listUserTeams(user.id);
  const first = teams[0];
  redirect(first ? `/t/${first.team.slug}/apps` : "/teams/new");
}
