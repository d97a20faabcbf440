#!/usr/bin/env bash
# Runs the operator. With $KUBECONFIG set, against that cluster (the CRDs, admission policies and user
# roles are applied there; no samples).
# Without it, against a local control plane started here (etcd, kube-apiserver, kube-controller-manager,
# kube-scheduler, kwok fake node), with the CRDs, the admission policies and user roles, the cluster
# settings and a sample trading system applied.
# Ctrl-C stops the operator and the local control plane.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

log() { echo "[run] $*" >&2; }

BIN_DIR="$(bash hack/build-tools.sh)"
export PATH="$BIN_DIR:$PATH"   # kubectl matching the control plane

log "building the operator"
./mvnw -q -B package -DskipTests

CP_PID=""
OP_PID=""
cleanup() {
  if [[ -n "$OP_PID" ]] && kill -0 "$OP_PID" 2>/dev/null; then
    kill "$OP_PID" 2>/dev/null || true
    wait "$OP_PID" 2>/dev/null || true
  fi
  if [[ -n "$CP_PID" ]] && kill -0 "$CP_PID" 2>/dev/null; then
    log "stopping the local control plane"
    kill "$CP_PID" 2>/dev/null || true
    wait "$CP_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
# Children started with & ignore SIGINT in a script, so Ctrl-C and SIGTERM are forwarded by hand.
trap 'exit 130' INT TERM

if [[ -z "${KUBECONFIG:-}" ]]; then
  CLUSTER_DIR="$PWD/target/local-cluster"
  rm -rf "$CLUSTER_DIR"
  mkdir -p "$CLUSTER_DIR"
  log "starting a local control plane (logs in $CLUSTER_DIR)"
  ./mvnw -q -B exec:java@local-control-plane > "$CLUSTER_DIR/control-plane.log" 2>&1 &
  CP_PID=$!
  for _ in $(seq 1 180); do
    [[ -f "$CLUSTER_DIR/ready" ]] && break
    kill -0 "$CP_PID" 2>/dev/null || { tail -n 30 "$CLUSTER_DIR/control-plane.log" >&2; log "control plane failed"; exit 1; }
    sleep 1
  done
  [[ -f "$CLUSTER_DIR/ready" ]] || { log "control plane not ready after 180s"; exit 1; }
  export KUBECONFIG="$CLUSTER_DIR/kubeconfig"
  kubectl apply --server-side -f k8s/crds/ >&2
  kubectl wait --for=condition=Established --timeout=60s \
    crd/executionpolicies.safety.marketintel.io crd/executionsafeties.safety.marketintel.io >&2
  kubectl apply --server-side -f k8s/admission -f k8s/rbac >&2
  # The admission policies just installed refuse writes with ServiceUnavailable until the API server has
  # resolved their matched kinds (a few seconds): retry the samples until then, within a deadline.
  for attempt in $(seq 1 30); do
    kubectl apply -f k8s/samples/execution-safety-global.yaml -f k8s/samples/momentum-dryrun.yaml >&2 2>"$CLUSTER_DIR/apply.err" && break
    [[ $attempt == 30 ]] && { cat "$CLUSTER_DIR/apply.err" >&2; log "could not apply the samples"; exit 1; }
    sleep 1
  done
  log "local control plane up: kube-apiserver $(cat "$CLUSTER_DIR/ready")"
  log "in another shell:  export KUBECONFIG=$KUBECONFIG PATH=$BIN_DIR:\$PATH"
  log "                   kubectl get xp   |   kubectl wait --for=condition=Ready xp/momentum"
else
  log "using KUBECONFIG=$KUBECONFIG (context $(kubectl config current-context))"
  kubectl apply --server-side -f k8s/crds/ -f k8s/admission -f k8s/rbac >&2
fi

log "starting the operator (Ctrl-C to stop)"
# Plain text logs for a person at a terminal; production logs are JSON (one object per line).
# HTTP (metrics, health) on 127.0.0.1:8080; QUARKUS_HTTP_PORT or -Dquarkus.http.port change the port.
java -Dquarkus.log.console.json.enabled=false -Dquarkus.http.host=127.0.0.1 -jar target/quarkus-app/quarkus-run.jar &
OP_PID=$!
wait "$OP_PID"
