import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/http/api-route";
import { licenseParams } from "@/lib/licenses/api";
import { findLicenseByKey, licenseFile } from "@/lib/licenses/customers";

// GET /api/v1/licenses/{licenseId}/file — the signed license file (YAML)
export const GET = apiRoute({ permission: "license:view-secret", params: licenseParams }, async (ctx, { params }) => {
  const l = await findLicenseByKey(ctx.team.id, params.licenseId);
  const file = await licenseFile(ctx.team.id, l.id);
  return {
    response: new NextResponse(file.yaml, {
      headers: { "content-type": "application/yaml; charset=utf-8", "content-disposition": `attachment; filename="${file.filename}"` },
    }),
  };
});
