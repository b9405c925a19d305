import type http from "node:http";
import net from "node:net";
import { Transform, type Readable } from "node:stream";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { CloudCredentialError, type CloudTransport } from "./types";

/** An answer from an AWS token API is a few KiB; anything near this is not one. */
const MAX_ANSWER_BYTES = 1 << 20;

/** The DNS suffixes of AWS's partitions (aws, aws-cn, aws-us-gov, aws-iso*, aws-eusc). */
const AWS_DNS_SUFFIXES = ["amazonaws.com", "amazonaws.com.cn", "c2s.ic.gov", "sc2s.sgov.gov", "cloud.adc-e.uk", "csp.hci.ic.gov", "amazonaws.eu"];

type HandleArgs = Parameters<NodeHttpHandler["handle"]>;
type HandleResult = Awaited<ReturnType<NodeHttpHandler["handle"]>>;

/**
 * The SDK's node handler, pinned to one endpoint: every request goes through the
 * transport's guarded agent for that endpoint, a request to any other origin is
 * refused before a socket is opened (an SDK setting, a shared config file or a
 * nested client must not redirect AWS credentials), and answers are bounded in size.
 */
class PinnedHandler extends NodeHttpHandler {
  private readonly agent: http.Agent;

  constructor(
    private readonly pinned: URL,
    transport: CloudTransport,
  ) {
    const agent = transport.agent(pinned);
    const timeout = transport.timeoutMs;
    super({
      ...(pinned.protocol === "https:" ? { httpsAgent: agent } : { httpAgent: agent }),
      connectionTimeout: timeout,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
    });
    this.agent = agent;
  }

  override async handle(...[request, options]: HandleArgs): Promise<HandleResult> {
    const port = request.port ? String(request.port) : "";
    const host = `${request.hostname}${port && port !== defaultPort(request.protocol) ? `:${port}` : ""}`.toLowerCase();
    if (request.protocol !== this.pinned.protocol || host !== this.pinned.host) {
      throw new CloudCredentialError("config", `Gantry may not send AWS credentials to ${request.protocol}//${host}: only ${this.pinned.origin} is allowed here.`);
    }
    await guardIpLiteral(this.agent, request.hostname);
    const result = await super.handle(request, options);
    const length = Number(result.response.headers["content-length"] ?? 0);
    const body = result.response.body as Readable | undefined;
    if (length > MAX_ANSWER_BYTES) {
      body?.destroy();
      throw new CloudCredentialError("protocol", `${this.pinned.host} answered ${length} bytes, more than an AWS token API sends.`);
    }
    if (body) result.response.body = body.pipe(limitBytes(MAX_ANSWER_BYTES, this.pinned.host));
    return result;
  }

  // The agents are the transport's, shared and kept alive across calls: not ours to destroy.
  override destroy(): void {}
}

type Lookup = (host: string, options: { all: boolean }, callback: (err: Error | null) => void) => void;

/**
 * Node connects to an IP literal without calling the agent's DNS lookup, where the
 * SSRF guard lives: ask that lookup about the literal first. (The transport's
 * agent keeps its options, lookup included, in `agent.options`.)
 */
async function guardIpLiteral(agent: http.Agent, hostname: string): Promise<void> {
  const host = hostname.replace(/^\[|\]$/g, "");
  const lookup = (agent as http.Agent & { options?: { lookup?: Lookup } }).options?.lookup;
  if (!net.isIP(host) || !lookup) return;
  await new Promise<void>((resolve, reject) => lookup(host, { all: true }, (err) => (err ? reject(err) : resolve())));
}

function defaultPort(protocol: string): string {
  return protocol === "http:" ? "80" : "443";
}

function limitBytes(max: number, host: string): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > max) callback(new CloudCredentialError("protocol", `${host} answered more than ${max} bytes, more than an AWS token API sends.`));
      else callback(null, chunk);
    },
  });
}

/** A request handler for an AWS SDK client that may only talk to `endpoint`, through the transport. */
export function pinnedHandler(endpoint: URL, transport: CloudTransport): NodeHttpHandler {
  return new PinnedHandler(endpoint, transport);
}

/**
 * Where an AWS API is called: the operator's override (AWS_ENDPOINT_URL_ECR / _STS),
 * else the SDK's own endpoint for the region, which must be that service's host in
 * one of AWS's partitions (`resolveDefault` is the SDK client's endpoint resolver).
 */
export function awsEndpoint(prefix: "api.ecr" | "sts", region: string, override: string | undefined, resolveDefault: () => URL): URL {
  if (override) {
    const url = new URL(override);
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password) {
      throw new CloudCredentialError("config", `The ${prefix === "sts" ? "STS" : "ECR"} endpoint override must be a plain http(s) URL.`);
    }
    return url;
  }
  const url = resolveDefault();
  const fixed = AWS_DNS_SUFFIXES.map((suffix) => `${prefix}.${region}.${suffix}`);
  if (url.protocol !== "https:" || !fixed.includes(url.host)) {
    throw new CloudCredentialError("config", `Gantry calls AWS only at its own hosts (${prefix}.${region}.amazonaws.com and the like), not at ${url.host}.`);
  }
  return url;
}

/**
 * Runs `call` with an abort signal that fires after `ms`, and ends after `ms` even
 * where the SDK does not honour the signal (a credential provider's own request):
 * the whole exchange, retries included, is bounded.
 */
export async function withDeadline<T>(ms: number, what: () => string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new CloudCredentialError("unreachable", `${what()} did not answer within ${seconds(ms)}.`));
      controller.abort();
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

function seconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
