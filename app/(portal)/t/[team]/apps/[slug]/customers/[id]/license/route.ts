import { NextResponse } from "next/server";
import { sessionRoute } from "@/lib/http/session-route";
import { getCustomer, licenseFile } from "@/lib/licenses/customers";

// GET /t/{team}/apps/{slug}/customers/{id}/license — download the signed license file (owners and admins)
export const GET = sessionRoute<{ team: string; slug: string; id: string }>("license:view-secret", async (ctx, params) => {
  const customer = await getCustomer(ctx.team.id, params.id);
  if (customer.app.slug !== params.slug) return NextResponse.json({ error: { code: "NOT_FOUND", message: "Customer not found." } }, { status: 404 });
  const file = await licenseFile(ctx.team.id, customer.license.id);
  return new NextResponse(file.yaml, {
    headers: {
      "content-type": "application/yaml; charset=utf-8",
      "content-disposition": `attachment; filename="${file.filename}"`,
      "cache-control": "no-store",
    },
  });
});
