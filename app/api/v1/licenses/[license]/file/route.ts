import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/http/api-route";
import { findLicense, licenseParams } from "@/lib/licenses/api";
import { licenseFile } from "@/lib/licenses/customers";

// GET /api/v1/licenses/{id|fingerprint}/file — the signed license file (YAML)
export const GET = apiRoute({ permission: "license:view-secret", params: licenseParams }, async (ctx, { params }) => {
  const l = await findLicense(ctx.team.id, params.license);
  const file = await licenseFile(ctx.team.id, l.id);
  return {
    response: new NextResponse(file.yaml, {
      headers: { "content-type": "application/yaml; charset=utf-8", "content-disposition": `attachment; filename="${file.filename}"` },
    }),
  };
});
