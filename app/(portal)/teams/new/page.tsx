import type { Metadata } from "next";
import Link from "next/link";
import { redirect } from "next/navigation";
import { Card, CardContent, CardDescription, CardHeader, CardTitle } from "@/components/ui/card";
import { currentUser } from "@/lib/auth/session";
import { NewTeamForm } from "./new-team-form";

export const metadata: Metadata = { title: "New team" };

export default async function NewTeamPage() {
  if (!(await currentUser())) redirect("/sign-in?callbackUrl=/teams/new");
  return (
    <main className="mx-auto max-w-md px-4 py-16">
      <Card>
        <CardHeader>
          <CardTitle>Create a team</CardTitle>
          <CardDescription>You will be its owner. Apps, registries and licenses belong to a team.</CardDescription>
        </CardHeader>
        <CardContent className="grid gap-4">
          <NewTeamForm />
          <Link href="/" className="text-center text-sm text-zinc-600 hover:underline">
            Cancel
          </Link>
        </CardContent>
      </Card>
    </main>
  );
}
