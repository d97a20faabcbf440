#!/usr/bin/env bash
# Builds, from pinned Go modules, every binary the tests and the local run need, into the directory
# layout Fabric8 kube-api-test reads: $KUBE_API_TEST_DIR/k8s/<version>-linux-<arch>/.
#   etcd, kube-apiserver, kube-controller-manager, kube-scheduler, kubectl  (control plane)
#   kwok                                                                    (fake kubelet: pods become Ready)
#   helm, chainsaw                                                          (end-to-end tooling)
# Idempotent: each tool carries a stamp of its go.mod/go.sum and the Go version; a second run with
# everything cached builds nothing. Prints the directory on stdout (logs go to stderr).
set -euo pipefail

HACK_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.sh
source "$HACK_DIR/versions.sh"

OUT="$(kube_bin_dir)"
mkdir -p "$OUT"
log() { echo "[build-tools] $*" >&2; }

command -v go >/dev/null || { log "Go is required (https://go.dev/dl); none on PATH"; exit 1; }
export GOFLAGS="-buildvcs=false -trimpath"
export CGO_ENABLED=0

stamp_of() { # the inputs that decide a tool's bytes
  (cat "$HACK_DIR/tools/$1/go.mod" "$HACK_DIR/tools/$1/go.sum"; go version; echo "$2") | sha256sum | cut -c1-16
}

# build <module dir> <ldflags> "<binaries it yields>" <package>...
build() {
  local mod="$1" ldflags="$2" outputs="$3"; shift 3
  local stamp_file="$OUT/.stamp-$mod" want have missing=0 bin
  want="$(stamp_of "$mod" "$ldflags")"
  have="$(cat "$stamp_file" 2>/dev/null || true)"
  for bin in $outputs; do [[ -x "$OUT/$bin" ]] || missing=1; done
  if [[ "$want" == "$have" && $missing == 0 ]]; then
    log "$mod: up to date"
    return
  fi
  log "$mod: building $* (cold: several minutes)"
  local start=$SECONDS
  (cd "$HACK_DIR/tools/$mod" && go build -ldflags "-s -w $ldflags" -o "$OUT/" "$@")
  # The etcd server module's main package is its root, so go build names the binary "server"; the name
  # "etcd" is the loopback wrapper below.
  if [[ "$mod" == etcd ]]; then mv -f "$OUT/server" "$OUT/etcd-server"; fi
  echo "$want" > "$stamp_file"
  log "$mod: built in $((SECONDS - start))s"
}

KUBE_LDFLAGS=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  KUBE_LDFLAGS+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=${KUBE_VERSION%%.*}"
  KUBE_LDFLAGS+=" -X $pkg.gitMinor=$(cut -d. -f2 <<<"$KUBE_VERSION") -X $pkg.gitTreeState=clean"
done

build kube "$KUBE_LDFLAGS" "kube-apiserver kube-controller-manager kube-scheduler kubectl" \
  k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl
build etcd "" etcd-server go.etcd.io/etcd/server/v3
# kube-api-test 7.5.2 starts etcd with --listen-client-urls=http://0.0.0.0:PORT, hard-coded: an etcd without
# authentication reachable from the network. Its "etcd" is this wrapper, which serves that port on loopback only.
cat > "$OUT/etcd.tmp" <<'WRAPPER'
#!/usr/bin/env bash
# Written by hack/build-tools.sh: etcd for the test and local control planes listens on 127.0.0.1 only.
exec "$(dirname "${BASH_SOURCE[0]}")/etcd-server" "${@//0.0.0.0:/127.0.0.1:}"
WRAPPER
chmod +x "$OUT/etcd.tmp" && mv -f "$OUT/etcd.tmp" "$OUT/etcd"
build kwok "" kwok sigs.k8s.io/kwok/cmd/kwok
build helm "-X helm.sh/helm/v3/internal/version.version=v$HELM_VERSION" helm helm.sh/helm/v3/cmd/helm
GOTOOLCHAIN="$CHAINSAW_GOTOOLCHAIN" build chainsaw "" chainsaw github.com/kyverno/chainsaw

echo "$OUT"
