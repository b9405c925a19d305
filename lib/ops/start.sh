#!/usr/bin/env bash
# README command 1: install, migrate the embedded DB, build, and start Gantry
# (portal and registry proxy on one port, http://127.0.0.1:3000 by default; Gantry's
# own registry on its host name or GANTRY_REGISTRY_PORT, stored by a distribution
# child process).
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

install_node_deps
ensure_registry_engine
generate_prisma_client
migrate_db
build_app
say "Starting Gantry"
exec npm run -s serve
