import { cookies } from "next/headers";
import { AppError } from "@/lib/errors";
import { customerBundle } from "@/lib/install/portal";
import { INSTALL_COOKIE, installSession } from "@/lib/install/session";

const text = (status: number, body: string) => new Response(body, { status, headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" } });

// GET /install/releases/{version}/bundle — the signed-in customer's installer zip for a release they may install; any other is 404.
export async function GET(_request: Request, { params }: { params: Promise<{ version: string }> }) {
  const session = await installSession((await cookies()).get(INSTALL_COOKIE)?.value);
  if (!session) return text(401, "Sign in on the install page first.");
  let version: string;
  try {
    version = decodeURIComponent((await params).version);
  } catch {
    return text(404, "No such release.");
  }
  try {
    const { filename, zip } = await customerBundle(session, version);
    return new Response(new Blob([zip.slice()]), {
      headers: { "content-type": "application/zip", "content-disposition": `attachment; filename="${filename}"`, "cache-control": "no-store" },
    });
  } catch (e) {
    if (e instanceof AppError && e.code === "NOT_FOUND") return text(404, "No such release for your license.");
    throw e;
  }
}
