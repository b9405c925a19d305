import { AppError, notFound } from "@/lib/errors";
import { sessionRoute } from "@/lib/http/session-route";
import { getCustomer } from "@/lib/licenses/customers";
import { bundleZip, installerForLicense, safeFileName as safe } from "@/lib/releases/installer";

// GET /t/{team}/apps/{slug}/releases/{version}/bundle?customer={id} — a customer's installer files as one zip (owners and admins)
export const GET = sessionRoute<{ team: string; slug: string; version: string }>("license:view-secret", async (ctx, params, request) => {
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
  const { files } = await installerForLicense(ctx, params.slug, version, customer.license.id);
  const zip = bundleZip(files);
  return new Response(new Blob([zip.slice()]), {
    headers: {
      "content-type": "application/zip",
      "content-disposition": `attachment; filename="${safe(params.slug)}-${safe(version)}-${safe(customer.name.toLowerCase())}.zip"`,
      "cache-control": "no-store",
    },
  });
});
