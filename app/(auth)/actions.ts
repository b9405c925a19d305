"use server";

import { AuthError } from "next-auth";
import { headers } from "next/headers";
import { redirect } from "next/navigation";
import { z } from "zod";
import { signIn, signOut } from "@/lib/auth";
import { signUp } from "@/lib/auth/sign-up";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { toAppError } from "@/lib/http/map-error";
import type { ActionResult } from "@/lib/http/team-action";

const signInSchema = z.object({
  email: z.string().trim().min(1, "Enter your email."),
  password: z.string().min(1, "Enter your password."),
  callbackUrl: z.string().optional(),
});

/** Only same-site paths, so a crafted link cannot bounce a user elsewhere after sign-in. */
function safeCallback(url: string | undefined): string {
  return url && url.startsWith("/") && !url.startsWith("//") && !url.startsWith("/\\") ? url : "/";
}

export async function signInAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  const parsed = signInSchema.safeParse(Object.fromEntries(formData));
  if (!parsed.success) return { ok: false, fieldErrors: z.flattenError(parsed.error).fieldErrors };
  try {
    await signIn("credentials", {
      email: parsed.data.email,
      password: parsed.data.password,
      redirectTo: safeCallback(parsed.data.callbackUrl),
    });
    return { ok: true };
  } catch (e) {
    if (e instanceof AuthError) {
      const code = "code" in e ? (e as { code?: string }).code : undefined;
      if (code === "rate_limited") {
        return { ok: false, message: "Too many failed sign-in attempts. Try again later." };
      }
      if (e.type === "CredentialsSignin") return { ok: false, message: "Wrong email or password." };
      return { ok: false, message: "Sign-in failed. Please try again." };
    }
    throw e; // NEXT_REDIRECT on success
  }
}

export async function signUpAction(_prev: ActionResult, formData: FormData): Promise<ActionResult> {
  const fields = Object.fromEntries(formData);
  try {
    await signUp(
      {
        name: String(fields.name ?? ""),
        email: String(fields.email ?? ""),
        password: String(fields.password ?? ""),
        teamName: String(fields.teamName ?? ""),
      },
      clientIpFromHeaders(await headers()),
    );
  } catch (e) {
    const err = toAppError(e, { action: "sign-up" });
    return { ok: false, message: err.message, fieldErrors: err.fields };
  }
  try {
    await signIn("credentials", { email: String(fields.email), password: String(fields.password), redirectTo: "/" });
  } catch (e) {
    if (e instanceof AuthError) redirect("/sign-in");
    throw e;
  }
  return { ok: true };
}

export async function signOutAction(): Promise<void> {
  await signOut({ redirectTo: "/sign-in" });
}
