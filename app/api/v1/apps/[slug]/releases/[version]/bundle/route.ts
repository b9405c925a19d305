import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/http/api-route";
import { licenseQuery, releaseParams } from "@/lib/releases/schema";
import { bundleZip, installerForLicense } from "@/lib/releases/installer";

// GET /api/v1/apps/{slug}/releases/{version}/bundle?license=<row id or fingerprint> — the installer's files as application/zip (owners and admins)
export const GET = apiRoute({ permission: "license:view-secret", params: releaseParams }, async (ctx, { params, request }) => {
  const { license } = licenseQuery.parse(Object.fromEntries(request.nextUrl.searchParams));
  const installer = await installerForLicense(ctx, params.slug, params.version, license);
  const zip = bundleZip(installer.files);
  const name = `${params.slug}-${params.version}-installer.zip`.replace(/[^A-Za-z0-9._+-]/g, "_");
  return {
    response: new NextResponse(Buffer.from(zip), {
      status: 200,
      headers: { "Content-Type": "application/zip", "Content-Disposition": `attachment; filename="${name}"`, "Content-Length": String(zip.byteLength) },
    }),
  };
});
