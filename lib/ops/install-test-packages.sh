#!/usr/bin/env bash
# Installs the Debian packages the tests run against, when missing:
#   chromium          Playwright's browser (its own download is not used)
#   docker-registry   the CNCF distribution registry (real upstreams)
#   skopeo, umoci     a real registry client, and image building without a daemon
#   apache2-utils     htpasswd (bcrypt) for the Basic-auth registry
#   kubernetes-client kubectl, for `kubectl kustomize`
#   iproute2          ss, to count sockets in the proxy's leak test
#   containerd        containerd and ctr, a second real client pulling through the proxy (needs root)
#   docker.io         the Docker engine (dockerd), a third real client (needs root; lib/testing/dockerd.ts),
#                     and the engine that builds and runs the container image (lib/deploy)
#   mmdebstrap        a Debian root filesystem from the apt mirror: the image's offline base (lib/deploy/base-images.ts)
#   caddy             TLS in front of Gantry with on-demand certificates for custom domains (lib/testing/caddy.ts)
#   prometheus        Prometheus and promtool, scraping Gantry's /metrics (lib/observe/prometheus.int.test.ts)
# As root it installs them with apt-get; otherwise it prints what to install.
set -euo pipefail

declare -A NEED=(
  [chromium]=chromium
  [docker-registry]=docker-registry
  [skopeo]=skopeo
  [umoci]=umoci
  [htpasswd]=apache2-utils
  [kubectl]=kubernetes-client
  [ss]=iproute2
  [containerd]=containerd
  [ctr]=containerd
  [dockerd]=docker.io
  [mmdebstrap]=mmdebstrap
  [caddy]=caddy
  [prometheus]=prometheus
  [promtool]=prometheus
)
missing=()
for cmd in "${!NEED[@]}"; do
  command -v "$cmd" > /dev/null 2>&1 || missing+=("${NEED[$cmd]}")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
# containerd and ctr (prometheus and promtool) come from one package: name each package once.
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)

if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
  echo "==> Installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq < /dev/null
  apt-get install -y -qq --no-install-recommends "${missing[@]}" < /dev/null
else
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install -y ${missing[*]}" >&2
  exit 1
fi
