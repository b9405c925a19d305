// Browsers ask for /favicon.ico on pages whose icon link they have not seen yet (a 404 page
// among them), and log its absence as a console error. Gantry's icon is app/icon.svg: send them there.
export function GET(request: Request): Response {
  return new Response(null, {
    status: 308,
    headers: { location: new URL("/icon.svg", request.url).pathname, "cache-control": "public, max-age=86400" },
  });
}
