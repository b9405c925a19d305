import { NextResponse } from "next/server";
import { z } from "zod";
import { planBundle } from "@/lib/airgap/bundle";
import { bundleResponse } from "@/lib/airgap/serve";
import { apiRoute } from "@/lib/http/api-route";
import { findLicense } from "@/lib/licenses/api";
import { clientIpFromHeaders } from "@/lib/net/client-ip";
import { licenseQuery, releaseParams } from "@/lib/releases/schema";

const query = licenseQuery.extend({ public: z.enum(["true", "false"]).default("true") });

// GET|HEAD /api/v1/apps/{slug}/releases/{version}/airgap?license=<row id or fingerprint>[&public=false] —
// the release for that license as one tar (OCI layout, charts, push.sh); Range and If-Range resume it (owners and admins).
const handler = apiRoute({ permission: "license:view-secret", params: releaseParams }, async (ctx, { params, request }) => {
  const q = query.parse(Object.fromEntries(request.nextUrl.searchParams));
  const license = await findLicense(ctx.team.id, q.license);
  const plan = await planBundle({ teamId: ctx.team.id, appSlug: params.slug, version: params.version, licenseRowId: license.id, includePublic: q.public === "true", signal: request.signal });
  const res = bundleResponse(plan, request, { clientIp: clientIpFromHeaders(request.headers) });
  return { response: new NextResponse(res.body, { status: res.status, headers: res.headers }) };
});

export const GET = handler;
export const HEAD = handler;
