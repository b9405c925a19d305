import { describe, expect, it } from "vitest";
import { parseReference, ReferenceError } from "@/lib/registry-client/reference";

const D = "sha256:" + "a".repeat(64);

describe("parseReference", () => {
  it.each([
    ["nginx", "docker.io", "library/nginx", undefined, undefined, "docker.io/library/nginx:latest"],
    ["nginx:1.27", "docker.io", "library/nginx", "1.27", undefined, "docker.io/library/nginx:1.27"],
    ["docker.io/nginx", "docker.io", "library/nginx", undefined, undefined, "docker.io/library/nginx:latest"],
    ["index.docker.io/library/nginx", "docker.io", "library/nginx", undefined, undefined, "docker.io/library/nginx:latest"],
    ["registry-1.docker.io/bitnami/redis:7", "docker.io", "bitnami/redis", "7", undefined, "docker.io/bitnami/redis:7"],
    ["bitnami/redis", "docker.io", "bitnami/redis", undefined, undefined, "docker.io/bitnami/redis:latest"],
    ["quay.io/acme/app:v1", "quay.io", "acme/app", "v1", undefined, "quay.io/acme/app:v1"],
    ["localhost/app", "localhost", "app", undefined, undefined, "localhost/app:latest"],
    ["localhost:5000/a/b/c:t", "localhost:5000", "a/b/c", "t", undefined, "localhost:5000/a/b/c:t"],
    ["127.0.0.1:5000/app@" + D, "127.0.0.1:5000", "app", undefined, D, "127.0.0.1:5000/app@" + D],
    ["ghcr.io/acme/app:v2@" + D, "ghcr.io", "acme/app", "v2", D, "ghcr.io/acme/app:v2@" + D],
    ["Registry.Example.com/app", "Registry.Example.com", "app", undefined, undefined, "Registry.Example.com/app:latest"],
    ["[::1]:5000/app", "[::1]:5000", "app", undefined, undefined, "[::1]:5000/app:latest"],
    ["a/b__c/d-e.f_g", "docker.io", "a/b__c/d-e.f_g", undefined, undefined, "docker.io/a/b__c/d-e.f_g:latest"],
  ])("%s", (input, domain, path, tag, digest, normalized) => {
    const r = parseReference(input);
    expect(r).toMatchObject({ original: input, domain, path, tag, digest, normalized });
  });

  it("keeps the written name for kustomize matching", () => {
    expect(parseReference("nginx:1.27").writtenName).toBe("nginx");
    expect(parseReference("docker.io/library/nginx@" + D).writtenName).toBe("docker.io/library/nginx");
    expect(parseReference("nginx").impliedLatest).toBe(true);
    expect(parseReference("nginx@" + D).impliedLatest).toBe(false);
  });

  it.each([
    ["", /empty/],
    [" nginx", /whitespace/],
    ["Nginx", /lowercase/],
    ["docker.io/Acme/app", /lowercase/],
    ["nginx:", /invalid tag/],
    ["nginx:-bad", /invalid tag/],
    ["nginx:" + "t".repeat(129), /invalid tag/],
    ["nginx@sha256:abc", /invalid digest/],
    ["nginx@sha256:" + "A".repeat(64), /64 lowercase hex/],
    ["app//x", /invalid repository/],
    ["-app", /invalid repository/],
    ["app-", /invalid repository/],
    ["quay.io/", /invalid repository|no repository/],
    ["quay..io/app", /invalid registry host/],
    ["x.io/" + "a".repeat(260), /longer than 255/],
  ])("rejects %j", (input, reason) => {
    expect(() => parseReference(input)).toThrow(ReferenceError);
    expect(() => parseReference(input)).toThrow(reason);
  });
});
