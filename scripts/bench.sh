#!/usr/bin/env bash
# `make bench`: the all-in-one `magnum` binary (release) against real Postgres, loaded
# through the gateway; prints req/s, p50/p99 latency and non-2xx per scenario, the targets,
# and the process's memory. Not part of `make test`.
#
# Load generator: oha (cargo install oha --locked --root .deps/oha); Debian's wrk when oha
# cannot be had. Everything runs on loopback and stops by itself (each scenario is bounded
# by BENCH_SECONDS). The load generator shares the machine's cores with the server, so the
# figures are a floor, not a capacity.
#
# Knobs (environment): BENCH_SECONDS (10), BENCH_TOOL (oha|wrk; default oha, then wrk),
# BENCH_STRICT=1 (exit 1 when a target is missed), MAGNUM_TEST_DATABASE_URL (else
# .deps/test-env, else postgres://magnum:magnum@127.0.0.1:5432/magnum_test).
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
DEPS="$ROOT/.deps"
SECONDS_EACH=${BENCH_SECONDS:-10}
GATEWAY=http://127.0.0.1:9511
PORTS=(9511 9520 9521 9522 9523) # gateway, identity, bay, k8s, container (all-in-one defaults)
TOKEN=bench

if [ -z "${MAGNUM_TEST_DATABASE_URL:-}" ] && [ -f "$DEPS/test-env" ]; then
    # shellcheck disable=SC1091
    set -a && . "$DEPS/test-env" && set +a
fi
DB_URL=${MAGNUM_TEST_DATABASE_URL:-postgres://magnum:magnum@127.0.0.1:5432/magnum_test}
SCHEMA="bench_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"

log() { printf 'bench: %s\n' "$*" >&2; }
die() { printf 'bench: %s\n' "$*" >&2; exit 1; }
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

command -v curl >/dev/null || die "curl is needed (apt-get install curl)"
command -v python3 >/dev/null || die "python3 is needed"
command -v psql >/dev/null || die "psql is needed: run scripts/test-deps.sh first"

# --------------------------------------------------------------------------- load generator
OHA="$DEPS/oha/bin/oha"
TOOL=${BENCH_TOOL:-}
if [ "$TOOL" != wrk ] && [ ! -x "$OHA" ]; then
    if cargo info oha >/dev/null 2>&1; then
        log "building oha (cargo install oha --locked --root .deps/oha; a few minutes, once)"
        if ! nice -n 10 cargo install oha --locked --root "$DEPS/oha" >"$DEPS/oha-install.log" 2>&1; then
            log "oha did not build (see .deps/oha-install.log); falling back to wrk"
        fi
    else
        log "crates.io has no oha for us; falling back to wrk"
    fi
fi
if [ "$TOOL" != wrk ] && [ -x "$OHA" ]; then
    TOOL=oha
else
    TOOL=wrk
    if ! command -v wrk >/dev/null; then
        log "apt-get install wrk"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null ||
            { as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk >/dev/null; }
    fi
fi

# --------------------------------------------------------------------------- server
for port in "${PORTS[@]}"; do
    ! port_open "$port" || die "127.0.0.1:$port is taken (is \`make run\` or another magnum running?)"
done

log "cargo build --release -p magnum"
cargo build --release -p magnum
BIN="$ROOT/target/release/magnum"
[ -x "$BIN" ] || die "$BIN was not built"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/magnum-bench.XXXXXX")
PID=""
cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$PID" 2>/dev/null || break; sleep 0.2; done
        if kill -0 "$PID" 2>/dev/null; then
            log "magnum did not stop within 10 s of SIGTERM; killing it"
            kill -KILL "$PID" 2>/dev/null || true
        fi
        wait "$PID" 2>/dev/null || true
    fi
    psql -X -q -w "$DB_URL" -c "DROP SCHEMA IF EXISTS \"$SCHEMA\" CASCADE" >/dev/null 2>&1 ||
        log "could not drop schema $SCHEMA (drop it by hand)"
    if [ "$rc" -ne 0 ] && [ -f "$WORK/magnum.log" ]; then
        log "last lines of the server log:"
        tail -n 20 "$WORK/magnum.log" >&2 || true
    fi
    rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "starting $BIN (Postgres schema $SCHEMA)"
MAGNUM_BAY__DATABASE__URL="$DB_URL" \
    MAGNUM_BAY__DATABASE__SCHEMA="$SCHEMA" \
    MAGNUM_TELEMETRY__LOG_FILTER=warn \
    "$BIN" --data-dir "$WORK/data" >"$WORK/magnum.log" 2>&1 </dev/null &
PID=$!

deadline=$((SECONDS + 60))
until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$GATEWAY/healthcheck" || true)" = 200 ]; do
    kill -0 "$PID" 2>/dev/null || die "magnum exited during start-up"
    [ "$SECONDS" -lt "$deadline" ] || die "no 200 from $GATEWAY/healthcheck within 60 s"
    sleep 0.2
done

# --------------------------------------------------------------------------- data
body() { printf '{"name":"%s","coe":"kubernetes","image_id":"fedora-atomic","keypair_id":"default","external_network_id":"public"}' "$1"; }
log "creating 100 baymodels"
UUID=""
for n in $(seq 1 100); do
    code=$(curl -s -o "$WORK/created.json" -w '%{http_code}' --max-time 10 \
        -H "X-Auth-Token: $TOKEN" -H 'Content-Type: application/json' \
        -X POST --data "$(body "bench-$n")" "$GATEWAY/v1/baymodels")
    case "$code" in
    2??) ;;
    *) die "POST /v1/baymodels answered $code: $(head -c 500 "$WORK/created.json")" ;;
    esac
    if [ -z "$UUID" ]; then
        UUID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["uuid"])' "$WORK/created.json") ||
            die "no uuid in the create response: $(head -c 500 "$WORK/created.json")"
    fi
done

# --------------------------------------------------------------------------- scenarios
# run NAME CONCURRENCY METHOD PATH [BODY] -> appends "name\tc\treq/s\tp50\tp99\tnon2xx" to RESULTS
RESULTS="$WORK/results.tsv"
: >"$RESULTS"

run_oha() { # c method url body out
    local args=(--no-tui --output-format json -z "${SECONDS_EACH}s" -c "$1" -m "$2" -H "X-Auth-Token: $TOKEN")
    [ -z "$4" ] || args+=(-T application/json -d "$4")
    "$OHA" "${args[@]}" "$3" >"$5"
    python3 - "$5" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
codes = r.get("statusCodeDistribution", {}) or {}
errors = r.get("errorDistribution", {}) or {}
non2xx = sum(n for code, n in codes.items() if not str(code).startswith("2"))
# requests still in flight when the time is up are cut off, not failures
non2xx += sum(n for e, n in errors.items() if "deadline" not in e)
lat = r.get("latencyPercentiles", {}) or {}
ms = lambda v: float("nan") if v is None else v * 1000
print(f'{r["summary"]["requestsPerSec"]:.1f}\t{ms(lat.get("p50")):.2f}\t{ms(lat.get("p99")):.2f}\t{non2xx}')
PY
}

run_wrk() { # c method url body out
    local script="$WORK/wrk.lua" threads=$(($1 < 2 ? $1 : 2))
    python3 - "$2" "$4" "$TOKEN" >"$script" <<'PY'
import json, sys
method, body, token = sys.argv[1:4]
print(f"wrk.method = {json.dumps(method)}")
print(f'wrk.headers["X-Auth-Token"] = {json.dumps(token)}')
if body:
    print('wrk.headers["Content-Type"] = "application/json"')
    print(f"wrk.body = {json.dumps(body)}")
print('''
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("BENCHJSON {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"bad\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end''')
PY
    wrk -t "$threads" -c "$1" -d "${SECONDS_EACH}s" -s "$script" "$3" >"$5"
    python3 - "$5" <<'PY'
import json, sys
line = next(l for l in open(sys.argv[1]) if l.startswith("BENCHJSON "))
r = json.loads(line.split(" ", 1)[1])
print(f'{r["requests"] / (r["duration_us"] / 1e6):.1f}\t{r["p50_us"] / 1000:.2f}\t{r["p99_us"] / 1000:.2f}\t{r["bad"]}')
PY
}

run() { # name c method path [body]
    local name=$1 c=$2 method=$3 url="$GATEWAY$4" body=${5:-} figures
    log "$name, concurrency $c, ${SECONDS_EACH} s ($TOOL)"
    figures=$("run_$TOOL" "$c" "$method" "$url" "$body" "$WORK/out-$c.txt") ||
        die "$TOOL failed on $name (c=$c)"
    printf '%s\t%s\t%s\n' "$name" "$c" "$figures" >>"$RESULTS"
}

# Reads first, so the list holds exactly the 100 baymodels made above.
for c in 1 32; do run "GET /v1/baymodels/<uuid>" "$c" GET "/v1/baymodels/$UUID"; done
for c in 1 32; do run "GET /v1/baymodels (100)" "$c" GET "/v1/baymodels"; done
for c in 1 32; do run "POST /v1/baymodels" "$c" POST "/v1/baymodels" "$(body bench-post)"; done

kill -0 "$PID" 2>/dev/null || die "magnum died during the run"
RSS_KB=$(awk '/^VmRSS:/ { print $2 }' "/proc/$PID/status")
HWM_KB=$(awk '/^VmHWM:/ { print $2 }' "/proc/$PID/status")

# --------------------------------------------------------------------------- report
python3 - "$RESULTS" "$TOOL" "$SECONDS_EACH" "$RSS_KB" "$HWM_KB" "$(nproc)" <<'PY'
import sys
path, tool, secs, rss, hwm, cores = sys.argv[1:7]
rows = [l.rstrip("\n").split("\t") for l in open(path) if l.strip()]
head = ("scenario", "concurrency", "req/s", "p50 ms", "p99 ms", "non-2xx")
w = [max(len(head[i]), *(len(r[i]) for r in rows)) for i in range(6)]
line = lambda cells: " | ".join(c.ljust(w[i]) if i == 0 else c.rjust(w[i]) for i, c in enumerate(cells))
print()
print(f"magnum-rs bench: all-in-one release binary, Postgres, {tool}, {secs} s per row, {cores} cores shared with the load generator")
print(line(head))
print("-+-".join("-" * x for x in w))
for r in rows:
    print(line(r))
get = {(r[0].split()[0] + " " + r[0].split()[1], r[1]): r for r in rows}
def fig(name, c="32"):
    r = get[(name, c)]
    return float(r[2]), float(r[4]), int(r[5])
targets = [
    ("get one  (c=32): >= 5000 req/s, p99 <= 20 ms", "GET /v1/baymodels/<uuid>", lambda rps, p99: rps >= 5000 and p99 <= 20),
    ("list 100 (c=32): >= 1000 req/s", "GET /v1/baymodels", lambda rps, p99: rps >= 1000),
    ("create   (c=32): >= 1000 req/s", "POST /v1/baymodels", lambda rps, p99: rps >= 1000),
]
print()
print("targets:")
missed = 0
for text, name, ok in targets:
    rps, p99, bad = fig(name)
    met = ok(rps, p99) and bad == 0
    missed += not met
    print(f"  {text:<46} {rps:9.1f} req/s, p99 {p99:6.2f} ms, non-2xx {bad}: {'met' if met else 'MISSED'}")
print()
print(f"memory of the magnum process (gateway and all services): RSS {int(rss) / 1024:.1f} MiB now, peak {int(hwm) / 1024:.1f} MiB")
open(path + ".missed", "w").write(str(missed))
PY
MISSED=$(cat "$RESULTS.missed")
if [ "${BENCH_STRICT:-0}" = 1 ] && [ "$MISSED" != 0 ]; then
    die "$MISSED target(s) missed"
fi
