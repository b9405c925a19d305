# Shared steps for lib/ops/start.sh and lib/ops/test.sh. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export NEXT_TELEMETRY_DISABLED=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Node.js 24 LTS is Gantry's runtime (22 still works). The npm registry carries
# Node itself: its node-<os>-<arch> package holds the binary and the headers
# native addons (better-sqlite3) build against. Fetched once into .tools/.
# The Dockerfile's default bases carry the same version (one Node for both).
GANTRY_NODE_VERSION=24.22.3

node_major() { node -p 'process.versions.node.split(".")[0]' 2> /dev/null || echo 0; }

# Node 24.19 to 24.21 abort better-sqlite3 11 (Prisma's SQLite adapter) when the
# garbage collector frees a prepared statement outside JavaScript ("Assertion
# failed: (env) != nullptr" in RemoveEnvironmentCleanupHook): node::ObjectWrap
# gained a cleanup hook in their headers that their runtime cannot remove there.
# 24.22 fixed the runtime. Such a machine Node is not used; Node 24.22.3 is fetched.
node_aborts_sqlite() { node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a === 24 && b >= 19 && b <= 21 ? 0 : 1)' 2> /dev/null; }

# Puts Node $GANTRY_NODE_VERSION first on PATH (unless the machine's node is a usable 24 already).
use_node24() {
  [[ "$(node_major)" == "24" ]] && ! node_aborts_sqlite && return 0
  local os arch
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "No Node.js 24 package for $(uname -s): install Node.js 24 yourself." >&2; return 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "No Node.js 24 package for $(uname -m): install Node.js 24 yourself." >&2; return 1 ;;
  esac
  local pkg="node-$os-$arch"
  local dir="$ROOT/.tools/node-$GANTRY_NODE_VERSION"
  if [[ ! -x "$dir/node_modules/$pkg/bin/node" ]]; then
    say "Fetching Node.js $GANTRY_NODE_VERSION from the npm registry ($pkg; $(node -v 2> /dev/null || echo 'no node') is on this machine)"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund "$pkg@$GANTRY_NODE_VERSION" > /dev/null
  fi
  export PATH="$dir/node_modules/$pkg/bin:$PATH"
  # Headers for native addons built by node-gyp (better-sqlite3), matching this Node.
  export npm_config_nodedir="$dir/node_modules/$pkg"
  hash -r
}

# npm start: the machine's Node when it is 22 or newer, else Node 24 as above.
use_supported_node() {
  (($(node_major) >= 22)) && ! node_aborts_sqlite && return 0
  use_node24
}

# Installs node_modules from the lockfile, once per lockfile change.
# `npm ci` can fail on mirrors that lack other platforms' optional packages
# ("Missing: @tailwindcss/oxide-darwin-arm64 from lock file"); `npm install`
# with the same lockfile then installs the same versions.
install_node_deps() {
  local stamp="node_modules/.gantry-lock-sha"
  local want
  # The Node ABI too: native addons built for one Node do not load in another.
  want="$( (sha256sum package-lock.json package.json; node -p 'process.versions.modules') | sha256sum | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" && -d node_modules/better-sqlite3/build ]]; then
    return 0
  fi
  say "Installing dependencies (a few minutes on first run: better-sqlite3 compiles)"
  if ! npm ci --no-audit --no-fund; then
    say "npm ci failed; installing from the lockfile with npm install"
    npm install --no-audit --no-fund
  fi
  git checkout -- package-lock.json 2>/dev/null || true
  echo "$want" > "$stamp"
}

# Both clients: SQLite (generated/prisma) and PostgreSQL (generated/prisma-pg,
# from prisma/postgres/schema.prisma, itself generated from prisma/schema.prisma).
generate_prisma_client() {
  say "Generating the Prisma clients (SQLite, PostgreSQL)"
  npx prisma generate --schema prisma/schema.prisma < /dev/null > /dev/null
  npx prisma generate --schema prisma/postgres/schema.prisma < /dev/null > /dev/null
}

migrate_db() {
  say "Applying database migrations"
  npx tsx lib/ops/db-migrate.ts < /dev/null
}

build_app() {
  say "Building the portal (production build)"
  npx next build
  build_fingerprint > .next/gantry-build-stamp
}

# What a build is made from: the sources, configs and lockfile (content, not times).
# Only what exists is hashed: a fresh clone has no public/ (git keeps no empty folder), and
# under `set -e` a find or sha256sum failing on a missing path would end the caller silently.
build_fingerprint() {
  local dirs=() files=() p
  for p in app components lib public prisma; do [[ -d $p ]] && dirs+=("$p"); done
  for p in package-lock.json package.json next.config.ts tsconfig.json postcss.config.mjs proxy.ts; do [[ -f $p ]] && files+=("$p"); done
  {
    find "${dirs[@]}" -type f ! -name '*.test.ts' ! -name '*.int.test.ts' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
    sha256sum "${files[@]}"
    node -p 'process.versions.modules'
  } | sha256sum | cut -d' ' -f1
}

# npm start: builds only when the sources or the lockfile changed since the last build.
build_app_if_changed() {
  if [[ -f .next/gantry-build-stamp && -f .next/BUILD_ID && "$(cat .next/gantry-build-stamp)" == "$(build_fingerprint)" ]]; then
    say "The portal is built and up to date (.next/gantry-build-stamp)"
    return 0
  fi
  build_app
}

# Gantry's own registry stores images in the CNCF distribution registry
# (Debian's docker-registry), started by the server as a child process. When it
# is missing: installed as root with apt-get; otherwise Gantry starts without
# its own registry and says how to enable it. Not needed with
# GANTRY_REGISTRY=off or an operator-run GANTRY_REGISTRY_BACKEND.
ensure_registry_engine() {
  [[ "${GANTRY_REGISTRY:-on}" == "off" || -n "${GANTRY_REGISTRY_BACKEND:-}" ]] && return 0
  command -v docker-registry > /dev/null 2>&1 && return 0
  if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
    say "Installing Debian package: docker-registry (storage of Gantry's own registry)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq < /dev/null
    apt-get install -y -qq --no-install-recommends docker-registry < /dev/null
    # The package enables its own service on :5000; Gantry runs its own instance on loopback.
    if command -v systemctl > /dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      systemctl disable --now docker-registry > /dev/null 2>&1 || true
    fi
  else
    echo "Gantry's own registry needs the CNCF distribution registry: sudo apt-get install -y docker-registry" >&2
    echo "Starting without it (the portal and the proxy work)." >&2
  fi
}
