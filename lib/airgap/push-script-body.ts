import "server-only";

/**
 * The fixed part of push.sh, after the data block push-script.ts bakes in
 * (APP_*, IMAGE_*, KUSTOMIZE_*, HELM_*, CHART_* arrays of validated values).
 * Written for bash 3.2 too (macOS): no associative arrays, no "${a[@]}" of
 * an empty array under `set -u`. Every value the script writes into YAML is
 * either baked (validated in TypeScript) or the destination, validated here
 * against the registry grammar before anything runs; YAML scalars are
 * double-quoted and neither can hold a quote or a backslash.
 */
export const PUSH_SCRIPT_BODY = `
usage() {
  cat <<'USAGE'
Usage: ./push.sh [options] REGISTRY[/NAMESPACE]

Copies every image of this bundle into REGISTRY (under NAMESPACE when given)
with skopeo, checks each pushed digest against the bundle's, then writes
overlays/airgap/kustomization.yaml and helm-values-airgap.yaml for it.

  REGISTRY    host[:port]; the host has a dot or a port, or is localhost
              (registry.internal:5000, harbor.example.com, localhost:5000)
  NAMESPACE   lowercase repository path: acme, team/acme

Options (passed to skopeo):
  --dest-creds USER:PASSWORD   credentials for REGISTRY (or env GANTRY_DEST_CREDS)
  --dest-authfile FILE         an auth file (skopeo login --authfile FILE, ~/.docker/config.json)
  --dest-tls-verify=false      plain http or an untrusted certificate (also: --insecure)
  -h, --help                   this help

Example: ./push.sh --dest-creds admin:secret registry.internal:5000/acme
USAGE
}

die_usage() {
  printf 'push.sh: %s\\n\\n' "$1" >&2
  usage >&2
  exit 2
}

die() {
  printf 'push.sh: error: %s\\n' "$1" >&2
  exit 1
}

creds="\${GANTRY_DEST_CREDS:-}"
authfile=""
tls_verify=true
dest=""
set_dest() {
  [ -z "$dest" ] || die_usage "give one destination, not \\"$dest\\" and \\"$1\\""
  dest="$1"
}
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --dest-creds) [ $# -ge 2 ] || die_usage "--dest-creds needs USER:PASSWORD"; creds="$2"; shift 2 ;;
    --dest-creds=*) creds="\${1#*=}"; shift ;;
    --dest-authfile) [ $# -ge 2 ] || die_usage "--dest-authfile needs a file"; authfile="$2"; shift 2 ;;
    --dest-authfile=*) authfile="\${1#*=}"; shift ;;
    --dest-tls-verify=false | --insecure) tls_verify=false; shift ;;
    --dest-tls-verify | --dest-tls-verify=true) tls_verify=true; shift ;;
    --) shift; while [ $# -gt 0 ]; do set_dest "$1"; shift; done ;;
    -*) die_usage "unknown option: $1" ;;
    *) set_dest "$1"; shift ;;
  esac
done
[ -n "$dest" ] || die_usage "name the registry to push to"

# The destination goes into image names and YAML: only the registry grammar passes.
dest="\${dest%/}"
label='[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?'
component='[a-z0-9]+(([.]|_|__|-+)[a-z0-9]+)*'
host="\${dest%%/*}"
namespace=""
case "$dest" in */*) namespace="\${dest#*/}" ;; esac
host_re="^$label([.]$label)*(:[0-9]{1,5})?\$"
path_re="^$component(/$component)*\$"
[[ $host =~ $host_re ]] || die_usage "\\"$host\\" is not a registry host[:port]"
case "$host" in *.* | *:* | localhost) ;; *) die_usage "\\"$host\\" has no dot or port: skopeo would read it as a Docker Hub namespace (write localhost:5000, registry.internal, ...)" ;; esac
[ -z "$namespace" ] || [[ $namespace =~ $path_re ]] || die_usage "\\"$namespace\\" is not a repository path (lowercase letters, digits, . _ - separated, / between parts)"
[ \${#dest} -le 200 ] || die_usage "the destination is longer than 200 characters"

command -v skopeo >/dev/null 2>&1 || die "skopeo is not installed (or not on PATH). Install skopeo 1.9 or later: apt-get install skopeo (Debian 12, Ubuntu 22.10+), dnf install skopeo (Fedora, RHEL 8+), brew install skopeo (macOS); see https://github.com/containers/skopeo/blob/main/install.md"
skopeo_version="$(skopeo --version 2>/dev/null || true)"
if [[ $skopeo_version =~ ([0-9]+)[.]([0-9]+) ]]; then
  if [ "\${BASH_REMATCH[1]}" -lt 1 ] || { [ "\${BASH_REMATCH[1]}" -eq 1 ] && [ "\${BASH_REMATCH[2]}" -lt 9 ]; }; then
    die "$skopeo_version is too old: this script needs skopeo 1.9 or later (--preserve-digests)"
  fi
fi
if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256; }
else
  die "neither sha256sum nor shasum is installed: the pushed digests cannot be checked"
fi

if [ -n "$authfile" ]; then
  case "$authfile" in /*) ;; *) authfile="$PWD/$authfile" ;; esac
  [ -r "$authfile" ] || die "cannot read the auth file $authfile"
fi
# From here on paths are the bundle's own: "oci:images:REF" takes no colon in its path, so cd there.
here="$(cd -- "$(dirname -- "\${BASH_SOURCE[0]}")" && pwd -P)"
cd -- "$here"
[ -f images/index.json ] || die "$here/images/index.json is missing: run push.sh from the unpacked bundle (tar -xf the whole file)"

copy_opts=()
inspect_opts=()
if [ "$tls_verify" = false ]; then copy_opts+=(--dest-tls-verify=false); inspect_opts+=(--tls-verify=false); fi
if [ -n "$creds" ]; then copy_opts+=(--dest-creds "$creds"); inspect_opts+=(--creds "$creds"); fi
if [ -n "$authfile" ]; then copy_opts+=(--dest-authfile "$authfile"); inspect_opts+=(--authfile "$authfile"); fi

n=\${#IMAGE_REFS[@]}
printf 'Pushing %d image(s) of %s %s to %s\\n' "$n" "$APP_NAME" "$APP_VERSION" "$dest"
for ((i = 0; i < n; i++)); do
  to="$dest/\${IMAGE_TARGETS[i]}:\${IMAGE_TAGS[i]}"
  printf '[%d/%d] %s -> %s\\n' "$((i + 1))" "$n" "\${IMAGE_SOURCES[i]}" "$to"
  skopeo copy --all --preserve-digests --retry-times 3 \${copy_opts[@]+"\${copy_opts[@]}"} "oci:images:\${IMAGE_REFS[i]}" "docker://$to" ||
    die "copying \${IMAGE_SOURCES[i]} to $to failed (skopeo's message is above)"
  # The registry's manifest bytes, hashed here: the exact check that it holds what the bundle does.
  got="$(skopeo inspect --raw --retry-times 3 \${inspect_opts[@]+"\${inspect_opts[@]}"} "docker://$to" | sha256)" ||
    die "reading back $to failed (skopeo's message is above)"
  got="sha256:\${got%% *}"
  [ "$got" = "\${IMAGE_DIGESTS[i]}" ] ||
    die "DIGEST MISMATCH for $to: the registry holds $got, the bundle has \${IMAGE_DIGESTS[i]}. The registry rewrote the image or the bundle is damaged; nothing was installed."
done

mkdir -p overlays/airgap
out=overlays/airgap/kustomization.yaml
{
  printf '# Written by push.sh: %s %s with its images in %s.\\n' "$APP_SLUG" "$APP_VERSION" "$dest"
  printf '# kubectl apply -k overlays/airgap\\n'
  printf 'apiVersion: kustomize.config.k8s.io/v1beta1\\nkind: Kustomization\\nresources:\\n- ../../manifests\\n'
  if [ \${#KUSTOMIZE_NAMES[@]} -gt 0 ]; then printf 'images:\\n'; fi
  for ((k = 0; k < \${#KUSTOMIZE_NAMES[@]}; k++)); do
    j=\${KUSTOMIZE_IMAGES[k]}
    printf -- '- name: "%s"\\n  newName: "%s"\\n' "\${KUSTOMIZE_NAMES[k]}" "$dest/\${IMAGE_TARGETS[j]}"
    case "\${KUSTOMIZE_MODES[k]}" in
      tag) printf '  newTag: "%s"\\n' "\${IMAGE_TAGS[j]}" ;;
      digest) printf '  digest: "%s"\\n' "\${IMAGE_DIGESTS[j]}" ;;
    esac
  done
} >"$out.tmp"
mv -f "$out.tmp" "$out"

out=helm-values-airgap.yaml
{
  printf '# Written by push.sh: %s %s with its images in %s.\\n' "$APP_SLUG" "$APP_VERSION" "$dest"
  printf '# Charts that template their images from registry/repository/tag read these.\\n'
  printf 'global:\\n  imageRegistry: "%s"\\n' "$host"
  if [ \${#HELM_KEYS[@]} -gt 0 ]; then printf 'images:\\n'; else printf 'images: {}\\n'; fi
  for ((k = 0; k < \${#HELM_KEYS[@]}; k++)); do
    j=\${HELM_IMAGES[k]}
    printf '  "%s":\\n    registry: "%s"\\n    repository: "%s"\\n    tag: "%s"\\n' "\${HELM_KEYS[k]}" "$host" "\${namespace:+$namespace/}\${IMAGE_TARGETS[j]}" "\${IMAGE_TAGS[j]}"
    if [ "\${HELM_DIGEST[k]}" = yes ]; then printf '    digest: "%s"\\n' "\${IMAGE_DIGESTS[j]}"; fi
  done
} >"$out.tmp"
mv -f "$out.tmp" "$out"

printf '\\nEvery image is in %s, digests checked. Install from %s:\\n' "$dest" "$here"
printf '  kubectl apply -k overlays/airgap\\n'
for ((c = 0; c < \${#CHART_FILES[@]}; c++)); do
  printf '  helm install %s charts/%s -f helm-values-airgap.yaml\\n' "\${CHART_RELEASES[c]}" "\${CHART_FILES[c]}"
done
`;
