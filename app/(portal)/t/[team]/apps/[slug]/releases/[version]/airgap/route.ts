import { planBundle } from "@/lib/airgap/bundle";
import { bundleResponse } from "@/lib/airgap/serve";
import { AppError, notFound } from "@/lib/errors";
import { sessionRoute } from "@/lib/http/session-route";
import { getCustomer } from "@/lib/licenses/customers";
import { clientIpFromHeaders } from "@/lib/net/client-ip";

// GET|HEAD /t/{team}/apps/{slug}/releases/{version}/airgap?customer={id}[&public=false] — a customer's air-gap
// bundle of the release, streamed (Range resumes it); owners and admins, as for the installer.
const handler = sessionRoute<{ team: string; slug: string; version: string }>("license:view-secret", async (ctx, params, request) => {
  const customerId = request.nextUrl.searchParams.get("customer");
  if (!customerId) throw new AppError("BAD_REQUEST", "Choose a customer (?customer=…).");
  let version: string;
  try {
    version = decodeURIComponent(params.version);
  } catch {
    throw notFound("Release");
  }
  const customer = await getCustomer(ctx.team.id, customerId);
  if (customer.app.slug !== params.slug) throw notFound("Customer");
  const includePublic = request.nextUrl.searchParams.get("public") !== "false";
  const plan = await planBundle({ teamId: ctx.team.id, appSlug: params.slug, version, licenseRowId: customer.license.id, includePublic, signal: request.signal });
  return bundleResponse(plan, request, { clientIp: clientIpFromHeaders(request.headers) });
});

export const GET = handler;
export const HEAD = handler;
