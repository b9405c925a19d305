import "server-only";
import NextAuth, { CredentialsSignin } from "next-auth";
import Credentials from "next-auth/providers/credentials";
import { z } from "zod";
import { env } from "@/lib/env";
import { isAppError } from "@/lib/errors";
import { authConfig } from "@/lib/auth/config";
import { checkCredentials } from "@/lib/auth/credentials";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { log } from "@/lib/log";

/** Thrown to Auth.js so the sign-in form can say "try again later". */
export class SignInRateLimited extends CredentialsSignin {
  override code = "rate_limited";
}

const credentialsSchema = z.object({ email: z.string().max(320), password: z.string().max(1000) });

export const { handlers, auth, signIn, signOut } = NextAuth({
  ...authConfig,
  secret: env().authSecret,
  // A wrong password is an expected outcome, not a server error: keep the log for real faults.
  logger: {
    error(error) {
      if (error instanceof CredentialsSignin) return;
      log.error("auth error", { error });
    },
    warn(code) {
      log.warn("auth warning", { code });
    },
  },
  providers: [
    Credentials({
      credentials: { email: { label: "Email" }, password: { label: "Password", type: "password" } },
      async authorize(raw, request) {
        const parsed = credentialsSchema.safeParse(raw);
        if (!parsed.success) return null;
        try {
          const user = await checkCredentials(parsed.data.email, parsed.data.password, clientIpFromHeaders(request.headers));
          return user ? { id: user.id, email: user.email, name: user.name } : null;
        } catch (e) {
          if (isAppError(e) && e.code === "RATE_LIMITED") throw new SignInRateLimited();
          throw e;
        }
      },
    }),
  ],
});
