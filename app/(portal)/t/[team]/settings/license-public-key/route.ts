import { NextResponse } from "next/server";
import { sessionRoute } from "@/lib/http/session-route";
import { teamSigningKey } from "@/lib/licenses/signing-key";

// GET /t/{team}/settings/license-public-key — the team's license-signing public key (PEM)
export const GET = sessionRoute<{ team: string }>("app:view", async (ctx) => {
  const key = await teamSigningKey(ctx.team.id);
  return new NextResponse(key.publicKey, {
    headers: {
      "content-type": "application/x-pem-file",
      "content-disposition": `attachment; filename="${ctx.team.slug}-license-signing-key.pem"`,
      "x-gantry-key-id": key.keyId,
    },
  });
});
