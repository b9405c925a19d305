"use server";

import { cookies, headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { env } from "@/lib/env";
import type { ActionResult } from "@/lib/http/team-action";
import { INSTALL_COOKIE, SESSION_SECONDS, signInWithLicense } from "@/lib/install/session";
import { clientIpFromHeaders } from "@/lib/net/client-ip";

const schema = z.object({ licenseId: z.string().trim().min(1, "Enter your license ID.").max(200, "A license ID is shorter than that.") });

/** Signs a customer in with their license ID; the cookie names the license's row, never the ID. */
export async function installSignInAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  const parsed = schema.safeParse({ licenseId: formData.get("licenseId") ?? "" });
  if (!parsed.success) return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors };
  const result = await signInWithLicense(parsed.data.licenseId, clientIpFromHeaders(await headers()));
  if (!result.ok) return { ok: false, message: result.message, ...(result.reason === "rate_limited" ? {} : { fieldErrors: { licenseId: [result.message] } }) };
  (await cookies()).set(INSTALL_COOKIE, result.cookie, {
    httpOnly: true,
    sameSite: "lax",
    secure: env().urls.portal.scheme === "https",
    path: "/install",
    maxAge: SESSION_SECONDS,
  });
  redirect("/install");
}

export async function installSignOutAction(): Promise<void> {
  (await cookies()).delete({ name: INSTALL_COOKIE, path: "/install" });
  redirect("/install");
}
