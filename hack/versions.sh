# Pinned tool versions, sourced by the hack/ scripts. Must match the go.mod files under hack/tools/.
KUBE_VERSION=1.36.3
HELM_VERSION=3.22.0

# kube-api-test reads $KUBE_API_TEST_DIR/k8s/<version>-linux-<arch>/{etcd,kube-apiserver,kubectl}.
kube_bin_dir() {
  local arch
  arch="$(go env GOARCH 2>/dev/null || echo amd64)"
  echo "${KUBE_API_TEST_DIR:-$HOME/.kubeapitest}/k8s/${KUBE_VERSION}-linux-${arch}"
}

# chainsaw v0.2.12 wraps testing.MainStart and does not compile with Go >= 1.25; its build uses this
# toolchain, which the go command fetches from the Go module proxy (golang.org/toolchain).
CHAINSAW_GOTOOLCHAIN=go1.24.13
