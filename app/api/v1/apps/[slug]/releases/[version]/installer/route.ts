import { apiRoute } from "@/lib/http/api-route";
import { licenseQuery, releaseParams } from "@/lib/releases/schema";
import { installerForLicense } from "@/lib/releases/installer";

// GET /api/v1/apps/{slug}/releases/{version}/installer?license=<row id or fingerprint> — {files: [{path, content}], commands: {dockerLogin, kubectlApply, helm}} (owners and admins: holds the license ID)
export const GET = apiRoute({ permission: "license:view-secret", params: releaseParams }, async (ctx, { params, request }) => {
  const { license } = licenseQuery.parse(Object.fromEntries(request.nextUrl.searchParams));
  return { body: await installerForLicense(ctx, params.slug, params.version, license) };
});
