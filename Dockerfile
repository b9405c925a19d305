# Gantry's container image (README: "Run it in a container or on Kubernetes").
#
#   docker build -t gantry .
#   docker run -d --name gantry -p 3000:3000 -p 3001:3001 -v gantry-data:/data gantry
#
# BASE builds (dependencies, better-sqlite3's native addon, `next build`) and
# RUNTIME_BASE runs. Both default to the official Node 24 images; any Debian
# bookworm with Node 24 and npm in /usr/local will do (the test suite builds
# both from Debian's apt and npm, offline: lib/deploy/base-images.ts).
# Written for the classic builder and BuildKit alike (no RUN --mount, heredocs or COPY --chmod).
#
# Node 24.22.3, as lib/ops/common.sh (GANTRY_NODE_VERSION): one Node everywhere.
# Not 24.19 to 24.21: they abort better-sqlite3 11 (Prisma's SQLite adapter)
# when the garbage collector frees a prepared statement outside JavaScript
# ("Assertion failed: (env) != nullptr"; nodejs/node#65446); 24.22 fixed it.
ARG BASE=node:24.22.3-bookworm
ARG RUNTIME_BASE=node:24.22.3-bookworm-slim

FROM ${BASE} AS build
WORKDIR /app
ENV NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1 \
    npm_config_nodedir=/usr/local \
    npm_config_update_notifier=false \
    GANTRY_DATA_DIR=/tmp/gantry-build-data
# npm_config_nodedir: better-sqlite3 compiles against the headers of the Node
# that runs it, not headers downloaded from nodejs.org. GANTRY_DATA_DIR:
# anything the build loads that reads the configuration (prisma.config.ts, the
# pages next prerenders) may generate embedded-mode secrets; they land here
# and are deleted, never in the image.

COPY package.json package-lock.json ./
# `npm install` with the same lockfile when `npm ci` refuses a lockfile that
# lacks another platform's optional packages (lib/ops/common.sh does the same).
RUN (npm ci --no-audit --no-fund || npm install --no-audit --no-fund) \
 && test -f node_modules/better-sqlite3/build/Release/better_sqlite3.node

COPY . .
RUN npx prisma generate --schema prisma/schema.prisma < /dev/null \
 && npx prisma generate --schema prisma/postgres/schema.prisma < /dev/null \
 && npx next build \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -rf .next/cache "$GANTRY_DATA_DIR" /root/.npm /tmp/* \
 && chmod 0755 deploy/docker/gantry

FROM ${RUNTIME_BASE}
# docker-registry: the CNCF distribution registry that stores Gantry's own
# registry (run by Gantry as a child process on loopback). ca-certificates:
# the system trust store, for operators who add their registries' CAs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends docker-registry ca-certificates \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb \
 && groupadd --gid 10001 gantry \
 && useradd --uid 10001 --gid 10001 --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin gantry \
 && mkdir -p /data \
 && chown 10001:0 /data \
 && chmod 0770 /data

# /data is group 0 as well, for platforms that run images under an arbitrary
# user id in group 0 (OpenShift). The secrets Gantry writes there are 0600.

# Owned by root and read-only to Gantry: the code cannot be changed by the process that runs it.
COPY --from=build /app /app
RUN ln -s /app/deploy/docker/gantry /usr/local/bin/gantry

# PORT: the portal, /api and the registry proxy; GANTRY_REGISTRY_PORT (PORT + 1
# unless GANTRY_REGISTRY_URL is set): Gantry's own registry. Every other
# setting is an environment variable as documented in the README
# ("Configuration"); set the public URLs to the names clients use.
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    GANTRY_DATA_DIR=/data \
    NEXT_TELEMETRY_DISABLED=1 \
    CHECKPOINT_DISABLE=1
WORKDIR /app
USER 10001:10001
# The SQLite database, generated secrets (auth-secret, kek), the proxy cache
# and the registry's storage and signing key.
VOLUME /data
EXPOSE 3000 3001
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["node", "/app/deploy/docker/healthcheck.cjs"]
# Exec form, node first: SIGTERM reaches Gantry's handler directly (drain, then exit 0).
ENTRYPOINT ["node", "--require", "/app/lib/ops/server-only-shim.cjs", "--import", "tsx", "/app/lib/ops/container.ts"]
CMD ["start"]
