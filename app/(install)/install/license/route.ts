import { cookies } from "next/headers";
import { customerLicenseFile } from "@/lib/install/portal";
import { INSTALL_COOKIE, installSession } from "@/lib/install/session";
import { licenseState } from "@/lib/licenses/state";
import { db } from "@/lib/db";

// GET /install/license — the signed-in customer's own license file (the install page's session cookie; nothing in the URL).
export async function GET() {
  const session = await installSession((await cookies()).get(INSTALL_COOKIE)?.value);
  if (!session) return new Response("Sign in on the install page first.", { status: 401, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  const license = await db.license.findUnique({ where: { id: session.licenseRowId }, select: { revokedAt: true, expiresAt: true } });
  if (!license || licenseState(license) !== "active") return new Response("This license is not active.", { status: 404, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });
  const { filename, yaml } = await customerLicenseFile(session);
  return new Response(yaml, {
    headers: { "content-type": "application/yaml; charset=utf-8", "content-disposition": `attachment; filename="${filename}"`, "cache-control": "no-store" },
  });
}
