import { cookies } from "next/headers";
import { customerAirgap } from "@/lib/install/airgap";
import { INSTALL_COOKIE } from "@/lib/install/session";
import { clientIpFromHeaders } from "@/lib/net/client-ip";

// GET|HEAD /install/releases/{version}/airgap — the air-gap bundle of a release for the customer's own license:
// with the install page's session, or `curl -u LICENSE_ID:<license ID>` (failures count against the same
// per-address limit as the page's sign-in). Range and If-Range resume it.
async function handler(request: Request, { params }: { params: Promise<{ version: string }> }) {
  return customerAirgap(request, (await params).version, (await cookies()).get(INSTALL_COOKIE)?.value, clientIpFromHeaders(request.headers));
}

export const GET = handler;
export const HEAD = handler;
