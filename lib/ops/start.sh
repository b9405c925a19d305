#!/usr/bin/env bash
# README command 1: install, migrate the embedded DB, build, and start Gantry
# (portal and registry proxy on one port, http://127.0.0.1:3000 by default; Gantry's
# own registry on its host name or GANTRY_REGISTRY_PORT, stored by a distribution
# child process). Rebuilds the portal only when its sources or the lockfile
# changed; on a Node older than 22 it runs on Node 24 fetched from the npm registry.
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

use_supported_node
install_node_deps
ensure_registry_engine
generate_prisma_client
migrate_db
build_app_if_changed
say "Starting Gantry on Node $(node -v)"
exec npm run -s serve
