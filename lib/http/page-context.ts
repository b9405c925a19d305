import "server-only";
import { notFound, redirect } from "next/navigation";
import { cache } from "react";
import { isAppError } from "@/lib/errors";
import { currentUser } from "@/lib/auth/session";
import { teamContextForUser } from "@/lib/teams/access";

/**
 * For portal pages under /t/[team]: the signed-in user and their context in the
 * team. Anonymous → /sign-in; not a member (or no such team) → the 404 page.
 * Cached per request, so the layout and the page share one lookup.
 */
export const teamPageContext = cache(async (teamSlug: string) => {
  const user = await currentUser();
  if (!user) redirect(`/sign-in?callbackUrl=${encodeURIComponent(`/t/${teamSlug}`)}`);
  try {
    const ctx = await teamContextForUser(user, teamSlug, "team:view");
    return { user, ctx };
  } catch (e) {
    if (isAppError(e) && (e.code === "NOT_FOUND" || e.code === "FORBIDDEN")) notFound();
    throw e;
  }
});
