import { NAME_TOTAL_MAX, PATH_COMPONENT_RE } from "@/lib/registry-client/reference";

/**
 * Token scopes as `docker login` / `docker pull` ask for them at /v2/token
 * (distribution token spec):
 *
 *   scope := resourcetype [ "(" resourceclass ")" ] ":" resourcename ":" action [ "," action ]*
 *
 * e.g. `repository:proxy/acme/quay.io/org/api:pull`. Each `scope=` query
 * parameter may hold several scopes separated by single spaces.
 *
 * Written as a plain scan (indexOf / split / one anchored regex per path
 * component of at most MAX_SCOPE_LENGTH characters), so the work is linear in
 * the input and bounded: counts and lengths are checked before any regex runs.
 * Pure: no database, no server-only imports.
 */
export const MAX_SCOPES = 10;
export const MAX_SCOPE_LENGTH = 512;

export type TokenScope = { type: "repository"; name: string; actions: string[] };

export class ScopeError extends Error {
  override name = "ScopeError";
}

const ECHO_MAX = 80;
const RESOURCE_TYPE_RE = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const RESOURCE_CLASS_RE = /^[a-zA-Z0-9]+$/;
const ACTION_RE = /^[a-z*]+$/;

/** The scope as echoed in messages: at most ~80 characters, never splitting a surrogate pair. */
function echo(scope: string): string {
  if (scope.length <= ECHO_MAX) return scope;
  let end = ECHO_MAX - 1;
  const code = scope.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end--;
  return `${scope.slice(0, end)}…`;
}

function malformed(scope: string, reason: string): ScopeError {
  return new ScopeError(`Malformed scope "${echo(scope)}": ${reason}`);
}

/** Splits every parameter on single spaces, dropping empty pieces, and stops as soon as there are too many. */
function pieces(params: string[]): string[] {
  const out: string[] = [];
  const tooMany = () => new ScopeError(`Too many scopes: at most ${MAX_SCOPES} per token request.`);
  for (const param of params) {
    let start = 0;
    while (start <= param.length) {
      let end = param.indexOf(" ", start);
      if (end < 0) end = param.length;
      if (end > start) {
        if (out.length >= MAX_SCOPES) throw tooMany();
        const piece = param.slice(start, end);
        if (piece.length > MAX_SCOPE_LENGTH) throw malformed(piece, `longer than ${MAX_SCOPE_LENGTH} characters.`);
        out.push(piece);
      }
      start = end + 1;
    }
  }
  return out;
}

function parseActions(scope: string, raw: string): string[] {
  if (raw === "") throw malformed(scope, "no actions (expected e.g. pull).");
  const actions = new Set<string>();
  for (const action of raw.split(",")) {
    if (!ACTION_RE.test(action)) throw malformed(scope, action === "" ? "empty action in the action list." : `invalid action "${echo(action)}".`);
    actions.add(action);
  }
  return [...actions];
}

function checkRepositoryName(scope: string, name: string): void {
  if (name === "") throw malformed(scope, "no repository name.");
  if (name.length > NAME_TOTAL_MAX) throw malformed(scope, `repository names are at most ${NAME_TOTAL_MAX} characters.`);
  for (const component of name.split("/")) {
    if (component === "") throw malformed(scope, "empty path component in the repository name.");
    if (!PATH_COMPONENT_RE.test(component)) throw malformed(scope, "invalid repository name (lowercase letters, digits and . _ - separators between '/').");
  }
}

/**
 * Parses the `scope` query parameters of a token request into repository
 * scopes, merging the actions of scopes that name the same repository.
 * Well-formed scopes of other resource types (e.g. `registry:catalog:*`) are
 * ignored; anything malformed, more than MAX_SCOPES scopes, or a scope longer
 * than MAX_SCOPE_LENGTH characters throws ScopeError with a user-facing message.
 */
export function parseScopes(params: string[]): TokenScope[] {
  const byName = new Map<string, Set<string>>();
  for (const scope of pieces(params)) {
    const first = scope.indexOf(":");
    const last = scope.lastIndexOf(":");
    if (first < 0 || first === last) throw malformed(scope, "expected type:name:actions.");
    let type = scope.slice(0, first);
    const name = scope.slice(first + 1, last);
    const actions = parseActions(scope, scope.slice(last + 1));
    const open = type.indexOf("(");
    if (open >= 0) {
      if (!type.endsWith(")") || !RESOURCE_CLASS_RE.test(type.slice(open + 1, -1))) throw malformed(scope, "invalid resource class.");
      type = type.slice(0, open);
    }
    if (!RESOURCE_TYPE_RE.test(type)) throw malformed(scope, "invalid resource type.");
    if (type !== "repository") {
      if (name === "") throw malformed(scope, "no resource name.");
      continue;
    }
    checkRepositoryName(scope, name);
    const merged = byName.get(name);
    if (merged) for (const a of actions) merged.add(a);
    else byName.set(name, new Set(actions));
  }
  return [...byName].map(([name, actions]) => ({ type: "repository", name, actions: [...actions] }));
}
