import { NextResponse } from "next/server";
import { apiRoute } from "@/lib/http/api-route";
import { teamSigningKey } from "@/lib/licenses/signing-key";

// GET /api/v1/license-public-key — the team's Ed25519 public key (PEM) for verifying license files
export const GET = apiRoute({ permission: "app:view" }, async (ctx) => {
  const key = await teamSigningKey(ctx.team.id);
  return { response: new NextResponse(key.publicKey, { headers: { "content-type": "application/x-pem-file", "x-gantry-key-id": key.keyId } }) };
});
