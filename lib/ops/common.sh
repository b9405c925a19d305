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
