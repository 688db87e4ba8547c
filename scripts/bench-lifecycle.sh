#!/usr/bin/env bash
# `make bench`, lifecycle part, against Postgres, JetStream and the test Docker engine:
# - bays created per second end to end (POST 202 → CREATE_COMPLETE) with the swarm driver,
#   with one bay-svc worker (the all-in-one binary) and then two (a second `bay-svc`
#   process joining the same Postgres schema and JetStream consumer); deletes timed too;
# - containers created and started per second across two bays, and the latency of listing
#   all of them (BENCH_CONTAINERS of them);
# - pods created per second on a kubernetes bay and the latency of listing them
#   (BENCH_PODS of them), against the FAKE Kubernetes API server (no real one runs here:
#   the figures are k8s-svc's and the gateway's cost, not a cluster's).
# Not part of `make test`.
#
# Needs what `make test-deps` starts: Postgres, NATS with JetStream, the Docker engine.
# Knobs: BENCH_BAYS (25), BENCH_BAYS_CONCURRENCY (16), BENCH_CONTAINERS (500), BENCH_PODS (500). Every bay is a Docker network and
# dockerd's default address pools hold about 30 networks, so more bays than that at once
# fail with "could not find an available, non-overlapping IPv4 address pool".
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEPS="$ROOT/.deps"
COUNT=${BENCH_BAYS:-25}
CONTAINERS=${BENCH_CONTAINERS:-500}
PODS=${BENCH_PODS:-500}
CONCURRENCY=${BENCH_BAYS_CONCURRENCY:-16}
GATEWAY=http://127.0.0.1:9511

log() { printf 'bench-lifecycle: %s\n' "$*" >&2; }
die() { printf 'bench-lifecycle: %s\n' "$*" >&2; exit 1; }

for env in test-env docker-env; do
    # shellcheck disable=SC1090
    [ -f "$DEPS/$env" ] && set -a && . "$DEPS/$env" && set +a
done
DB_URL=${MAGNUM_TEST_DATABASE_URL:-postgres://magnum:magnum@127.0.0.1:5432/magnum_test}
NATS_URL=${MAGNUM_TEST_NATS_URL:-nats://127.0.0.1:4222}
[ -n "${DOCKER_HOST:-}" ] || die "no Docker engine: run scripts/docker.sh (writes .deps/docker-env)"
SUFFIX=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')
SCHEMA="bench_bays_$SUFFIX"
CONTAINER_SCHEMA="bench_containers_$SUFFIX"
K8S_SCHEMA="bench_k8s_$SUFFIX"
FAKE_KUBE_LISTEN=${BENCH_FAKE_KUBE_LISTEN:-127.0.0.1:16443}

log "cargo build --release -p magnum -p bay-svc; the load drivers"
cargo build --release -p magnum -p bay-svc -p fake-kube-apiserver
cargo build --release -p magnum-integration-tests --bin bench-bays --bin bench-containers --bin bench-pods
BIN="$ROOT/target/release"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/magnum-bench-bays.XXXXXX")
PIDS=()
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    for schema in "$SCHEMA" "$CONTAINER_SCHEMA" "$K8S_SCHEMA"; do
        psql -X -q -w "$DB_URL" -c "DROP SCHEMA IF EXISTS \"$schema\" CASCADE" >/dev/null 2>&1 ||
            log "could not drop schema $schema (drop it by hand)"
    done
    if [ "$rc" -ne 0 ]; then
        for log_file in "$WORK"/*.log; do
            [ -f "$log_file" ] && { log "last lines of $log_file:"; tail -n 20 "$log_file" >&2; }
        done
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

KEY=$(openssl rand -base64 32)
cat >"$WORK/magnum.toml" <<TOML
[bus]
url = "$NATS_URL"
prefix = "bench_$SUFFIX"

[telemetry]
log_filter = "warn"

[bay]
listen = "127.0.0.1:9521"
default_create_timeout = 0
# The bench makes more bays in one project than the default quota (20) allows.
default_bay_quota = 100000

[bay.database]
url = "$DB_URL"
schema = "$SCHEMA"
max_connections = 16

[bay.secrets]
key = "$KEY"

[bay.health]
interval_secs = 0

[bay.kubernetes]
kubeconfig = "$WORK/kubeconfig"

[container.database]
url = "$DB_URL"
schema = "$CONTAINER_SCHEMA"
max_connections = 16

[k8s.database]
url = "$DB_URL"
schema = "$K8S_SCHEMA"
max_connections = 16

[[swarm.engines]]
name = "node-1"
url = "$DOCKER_HOST"

[[swarm.engines]]
name = "node-2"
url = "$DOCKER_HOST"
TOML

wait_healthy() { # pid
    local deadline=$((SECONDS + 60))
    until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$GATEWAY/healthcheck" || true)" = 200 ]; do
        kill -0 "$1" 2>/dev/null || die "magnum exited during start-up"
        [ "$SECONDS" -lt "$deadline" ] || die "no 200 from $GATEWAY/healthcheck within 60 s"
        sleep 0.2
    done
}

log "starting the fake Kubernetes API server on $FAKE_KUBE_LISTEN (kubernetes bays' host cluster)"
RUST_LOG=warn "$BIN/fake-kube-apiserver" --listen "$FAKE_KUBE_LISTEN" --kubeconfig-out "$WORK/kubeconfig" \
    >"$WORK/fake-kube-apiserver.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 1 100); do [ -f "$WORK/kubeconfig" ] && break; sleep 0.1; done
[ -f "$WORK/kubeconfig" ] || die "the fake API server wrote no kubeconfig"

log "starting the all-in-one magnum (one bay worker)"
"$BIN/magnum" --data-dir "$WORK/data" --config "$WORK/magnum.toml" >"$WORK/magnum.log" 2>&1 </dev/null &
PIDS+=($!)
wait_healthy "${PIDS[-1]}"

code=$(curl -s -o "$WORK/baymodel.json" -w '%{http_code}' --max-time 10 \
    -H 'X-Auth-Token: bench' -H 'Content-Type: application/json' -X POST \
    --data '{"name":"bench-swarm","coe":"swarm","image_id":"fedora-atomic","keypair_id":"default","external_network_id":"public"}' \
    "$GATEWAY/v1/baymodels")
[ "$code" = 201 ] || die "POST /v1/baymodels answered $code: $(head -c 300 "$WORK/baymodel.json")"

RESULTS=()
RESULTS+=("$("$BIN/bench-bays" "$GATEWAY" bench-swarm "$COUNT" "$CONCURRENCY" "1-worker")")

log "starting a second bay-svc (two bay workers)"
MAGNUM_CONFIG="$WORK/magnum.toml" MAGNUM_BAY__LISTEN=127.0.0.1:9531 \
    "$BIN/bay-svc" >"$WORK/bay-svc-2.log" 2>&1 </dev/null &
PIDS+=($!)
sleep 2
RESULTS+=("$("$BIN/bench-bays" "$GATEWAY" bench-swarm "$COUNT" "$CONCURRENCY" "2-workers")")

log "$CONTAINERS containers across two bays"
IMAGE=${MAGNUM_TEST_DOCKER_IMAGE:-magnum-rs/busybox:test}
CONTAINER_RESULTS=$("$BIN/bench-containers" "$GATEWAY" "$IMAGE" "$CONTAINERS" "$CONCURRENCY")

log "$PODS pods on a kubernetes bay of the fake API server"
POD_RESULTS=$("$BIN/bench-pods" "$GATEWAY" "$PODS" "$CONCURRENCY")

printf '\nbays end to end, swarm driver on one local Docker engine (%s bays, concurrency %s):\n' "$COUNT" "$CONCURRENCY"
printf '%s\n' "${RESULTS[@]}"
printf '\ncontainers end to end on the same engine:\n%s\n' "$CONTAINER_RESULTS"
printf '\npods end to end against the FAKE Kubernetes API server (not a real cluster):\n%s\n' "$POD_RESULTS"
