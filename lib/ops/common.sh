# Shared steps for lib/ops/start.sh and lib/ops/test.sh. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"

export NEXT_TELEMETRY_DISABLED=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# Installs node_modules from the lockfile, once per lockfile change.
# `npm ci` can fail on mirrors that lack other platforms' optional packages
# ("Missing: @tailwindcss/oxide-darwin-arm64 from lock file"); `npm install`
# with the same lockfile then installs the same versions.
install_node_deps() {
  local stamp="node_modules/.gantry-lock-sha"
  local want
  want="$(sha256sum package-lock.json package.json | sha256sum | cut -d' ' -f1)"
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
