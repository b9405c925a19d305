#!/usr/bin/env bash
# README command 2: install what the tests need, then run every test:
# typecheck, lint, the PostgreSQL schema drift check, unit, integration on
# SQLite and then on PostgreSQL (a throwaway cluster: lib/ops/postgres-cluster.sh;
# real registries), the deployment artifacts once (the Helm chart with Helm 4,
# the container image built from an offline base and run in a private Docker
# engine), and Playwright (Debian Chromium against the production build) on
# SQLite and then on PostgreSQL.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash lib/ops/install-test-packages.sh
# Every suite runs on Node 24 (fetched from the npm registry when the machine has another).
use_node24
say "Running on Node $(node -v)"
install_node_deps
generate_prisma_client

RESULTS="$ROOT/test-results/summary"
rm -rf "$RESULTS" && mkdir -p "$RESULTS"

say "Typecheck"
rm -rf .next/types .next/dev/types # route types of an older build would be stale
npx tsc --noEmit
say "Lint"
npx eslint --max-warnings 0 .
say "PostgreSQL schema is in step with prisma/schema.prisma"
npx tsx lib/ops/db-schema-postgres.ts --check

status=0
say "Unit tests"
npx vitest run --project unit --reporter=default --reporter=json --outputFile.json="$RESULTS/unit.json" || status=1
say "Integration tests (SQLite)"
npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$RESULTS/integration.json" || status=1
say "Integration tests (PostgreSQL)"
bash lib/ops/postgres-cluster.sh npx vitest run --project integration --reporter=default --reporter=json --outputFile.json="$RESULTS/integration-postgres.json" || status=1
say "Deployment: the Helm chart (Helm 4) and the container image (built and run; slow)"
npx vitest run --project deploy --reporter=default --reporter=json --outputFile.json="$RESULTS/deploy.json" || status=1
build_app
say "End-to-end tests (Playwright, Debian Chromium, SQLite)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$RESULTS/e2e.json" npx playwright test || status=1
say "End-to-end tests (Playwright, Debian Chromium, PostgreSQL)"
PLAYWRIGHT_JSON_OUTPUT_NAME="$RESULTS/e2e-postgres.json" bash lib/ops/postgres-cluster.sh npx playwright test || status=1

node lib/ops/test-summary.mjs "$RESULTS" || status=1  # its last lines name the Node that ran
exit $status
