import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsEndpoint, pinnedHandler } from "./aws-http";
import { ecrApiEndpoints, mintEcrCredentials } from "./ecr";
import { cloudTransport } from "./transport";
import { CloudCredentialError } from "./types";

/** A server that records what reaches it and answers what the test says. */
let seen: string[] = [];
let answer: (res: http.ServerResponse) => void = (res) => res.end("{}");
let server: http.Server;
let url = "";

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(`${req.method} ${req.headers.host}${req.url}`);
    answer(res);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const transport = () => cloudTransport({ operatorEndpoints: [url], allowedPrivateHosts: ["127.0.0.1"], timeoutMs: 3000 });
const key = { region: "us-east-1", accessKeyId: "AKIAGANTRYTEST00001", secretAccessKey: "secret-key" };

describe("pinnedHandler", () => {
  it("sends to its one endpoint and refuses any other origin before connecting", async () => {
    seen = [];
    const handler = pinnedHandler(new URL(url), transport());
    const request = (hostname: string, port: number, protocol = "http:") => ({ method: "POST", protocol, hostname, port, path: "/", query: {}, headers: { host: `${hostname}:${port}` }, body: "{}" });
    const port = Number(new URL(url).port);
    const ok = await handler.handle(request("127.0.0.1", port) as never);
    expect(ok.response.statusCode).toBe(200);
    for (const [host, p, protocol] of [["localhost", port, "http:"], ["127.0.0.1", port + 1, "http:"], ["127.0.0.1", port, "https:"]] as const) {
      const e = await handler.handle(request(host, p, protocol) as never).catch((err: unknown) => err);
      expect(e).toBeInstanceOf(CloudCredentialError);
      expect((e as CloudCredentialError).kind).toBe("config");
      expect((e as Error).message).toContain(`only ${new URL(url).origin} is allowed`);
    }
    expect(seen).toHaveLength(1);
  });

  it("bounds the answer's size, declared or streamed", async () => {
    const big = "x".repeat(2 << 20);
    for (const chunked of [false, true]) {
      answer = (res) => {
        res.writeHead(200, { "content-type": "application/x-amz-json-1.1", ...(chunked ? {} : { "content-length": String(big.length) }) });
        if (chunked) res.write(big.slice(0, 1 << 20));
        res.end(chunked ? big.slice(1 << 20) : big);
      };
      const e = await mintEcrCredentials(key, transport(), { endpoints: { ecr: url, sts: url } }).catch((err: unknown) => err);
      expect(e, `chunked: ${chunked}`).toBeInstanceOf(CloudCredentialError);
      expect((e as CloudCredentialError).kind).toBe("protocol");
      expect((e as Error).message).toContain("more than an AWS token API sends");
    }
    answer = (res) => res.end("{}");
  });
});

describe("awsEndpoint", () => {
  it("is the SDK's host for the region in one of AWS's partitions, or the operator's override", () => {
    const resolved = (href: string) => () => new URL(href);
    expect(awsEndpoint("api.ecr", "us-east-1", undefined, resolved("https://api.ecr.us-east-1.amazonaws.com/")).host).toBe("api.ecr.us-east-1.amazonaws.com");
    expect(awsEndpoint("sts", "cn-north-1", undefined, resolved("https://sts.cn-north-1.amazonaws.com.cn/")).host).toBe("sts.cn-north-1.amazonaws.com.cn");
    for (const href of ["https://api.ecr.us-east-1.amazonaws.com.evil.test/", "http://api.ecr.us-east-1.amazonaws.com/", "https://sts.us-east-1.amazonaws.com/"]) {
      expect(() => awsEndpoint("api.ecr", "us-east-1", undefined, resolved(href)), href).toThrow(CloudCredentialError);
    }
    expect(awsEndpoint("sts", "us-east-1", "http://127.0.0.1:4566", resolved("https://unused/")).href).toBe("http://127.0.0.1:4566/");
    expect(() => awsEndpoint("sts", "us-east-1", "http://user:pw@127.0.0.1:4566", resolved("https://unused/"))).toThrow("plain http(s) URL");
  });

  it("ECR's and STS's real hosts for the region when no override is set", () => {
    const hosts = (region: string) => Object.values(ecrApiEndpoints(region, {})).map((u) => u.href);
    expect(hosts("eu-west-1")).toEqual(["https://api.ecr.eu-west-1.amazonaws.com/", "https://sts.eu-west-1.amazonaws.com/"]);
    expect(hosts("cn-north-1")).toEqual(["https://api.ecr.cn-north-1.amazonaws.com.cn/", "https://sts.cn-north-1.amazonaws.com.cn/"]);
    expect(hosts("us-gov-west-1")).toEqual(["https://api.ecr.us-gov-west-1.amazonaws.com/", "https://sts.us-gov-west-1.amazonaws.com/"]);
    expect(ecrApiEndpoints("us-east-1", { ecr: url }).ecr.href).toBe(`${url}/`);
    expect(() => ecrApiEndpoints("us-east-1.evil.test", {})).toThrow(CloudCredentialError);
  });
});
