#!/usr/bin/env bash
# A real Docker engine for the tests (swarm Bay driver, Containers over bollard), on this
# machine only, and a tiny local image built without pulling anything. Writes
# .deps/docker-env for the tests (set -a; . .deps/docker-env):
#
#   DOCKER_HOST=unix:///run/magnum-rs-docker/docker.sock
#   MAGNUM_TEST_DOCKER_IMAGE=magnum-rs/busybox:test
#
# Usage: scripts/docker.sh [start|stop|status|check|objects|leftovers FILE] (default: start)
#   start   install Debian's docker.io (when dockerd is missing) and busybox-static (when
#           no static busybox is there), start our own dockerd (when nothing answers on
#           our socket), import the image (when missing), prove a container runs, and
#           write .deps/docker-env. The first start of an engine also runs `check`.
#   check   the networking proof: a busybox httpd on one user-defined bridge network is
#           reached by name and by IP from a second container on the same network, and
#           NOT reached from a container on another network (nor the default bridge).
#   status  one line per fact; exit 0 when the engine answers, 3 when it does not.
#   stop    stop our dockerd (and the containerd it started); data and image are kept.
#   objects print the ids of every container and network magnum-rs made on the engine
#           (labelled magnum.managed / magnum.bay.uuid / magnum.container.uuid).
#   leftovers FILE   fail, listing them, when objects exist that FILE (an earlier
#           `objects`) did not list: what a test run left on the engine.
#
# Idempotent and quick when everything is up (one `docker run`, about a second). Debian
# only (apt-get). Needs root (or sudo) to install and to start dockerd.
#
# One engine per machine, not per checkout: dockerd owns kernel-wide things (the docker0
# bridge, the DOCKER iptables chains, ip_forward), so two of them fight. Every checkout
# (CI's fresh clone too) finds and reuses the one on our socket. Its socket is private
# (not /var/run/docker.sock), so it never collides with a Docker a developer runs.
# See docs/docker.md for the flags and the limits found.
#
# Knobs (environment):
#   MAGNUM_TEST_DOCKER_HOST     use this engine instead (e.g. unix:///var/run/docker.sock);
#                               nothing is installed or started, the image is still imported
#   MAGNUM_TEST_DOCKER_RUN_DIR  socket, pidfile, exec-root   (/run/magnum-rs-docker)
#   MAGNUM_TEST_DOCKER_DATA_ROOT  images, containers         (/var/lib/magnum-rs-docker)
#   MAGNUM_TEST_DOCKER_STORAGE_DRIVER  e.g. vfs               (dockerd's choice: overlay2)
#   MAGNUM_TEST_DOCKER_IPTABLES  false: --iptables=false     (true)
#   MAGNUM_TEST_DOCKER_IMAGE    the image's name              (magnum-rs/busybox:test)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS="$ROOT/.deps"
ENV_FILE="$DEPS/docker-env"
RUN_DIR=${MAGNUM_TEST_DOCKER_RUN_DIR:-/run/magnum-rs-docker}
DATA_ROOT=${MAGNUM_TEST_DOCKER_DATA_ROOT:-/var/lib/magnum-rs-docker}
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
EXEC_ROOT="$RUN_DIR/exec"
DAEMON_JSON="$RUN_DIR/daemon.json"
SMOKE_STAMP="$RUN_DIR/checked"
LOG=/var/log/magnum-rs-docker.log
IMAGE=${MAGNUM_TEST_DOCKER_IMAGE:-magnum-rs/busybox:test}
STORAGE_DRIVER=${MAGNUM_TEST_DOCKER_STORAGE_DRIVER:-}
IPTABLES=${MAGNUM_TEST_DOCKER_IPTABLES:-true}
if [ -n "${MAGNUM_TEST_DOCKER_HOST:-}" ]; then
    EXTERNAL=1 HOST_URL=$MAGNUM_TEST_DOCKER_HOST
else
    EXTERNAL=0 HOST_URL="unix://$SOCK"
fi
START_TIMEOUT=60 STOP_TIMEOUT=30

export DEBIAN_FRONTEND=noninteractive

say() { printf '%-14s %-10s %s\n' "$1" "$2" "$3"; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'docker.sh: %s\n' "$*" >&2; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo)
else
    SUDO=(__no_sudo__)
fi
as_root() {
    [ "${SUDO[0]:-}" != __no_sudo__ ] || die "needs root for: $* (run as root, or install sudo)"
    "${SUDO[@]}" "$@"
}

APT_UPDATED=0
apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand (Debian/Ubuntu only)"
    if [ "$APT_UPDATED" = 0 ]; then
        note "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        APT_UPDATED=1
    fi
    note "apt-get install $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=120 "$@" >/dev/null 8>&- 9>&-
}

wait_until() { # seconds command...: polls every 0.2 s until the command succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# The docker CLI: whichever is first on PATH (here /usr/local/bin/docker 28.x, which
# negotiates down to the 20.10 engine's API 1.41), else Debian's /usr/bin/docker.
DOCKER_CLI=$(command -v docker 2>/dev/null || echo /usr/bin/docker)
dk() { DOCKER_HOST="$HOST_URL" "$DOCKER_CLI" "$@"; }
engine_up() { [ -x "$DOCKER_CLI" ] && timeout 10 env DOCKER_HOST="$HOST_URL" "$DOCKER_CLI" version >/dev/null 2>&1; }
server_version() { dk version --format '{{.Server.Version}} (API {{.Server.APIVersion}})' 2>/dev/null; }

# A live (not zombie) process with this pid. Here PID 1 does not reap orphans at once, so
# a dockerd that exited can stay a zombie for a while and `kill -0` would still succeed.
alive() {
    local state
    [ -n "$1" ] && [ -r "/proc/$1/stat" ] || return 1
    state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1) || return 1
    [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}
our_pid() { # the pid of our dockerd when it is alive
    local pid
    pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
    alive "$pid" && grep -q dockerd "/proc/$pid/comm" 2>/dev/null && echo "$pid"
}

dockerd_bin() {
    if [ -x /usr/sbin/dockerd ]; then echo /usr/sbin/dockerd; else command -v dockerd 2>/dev/null; fi
}

# --------------------------------------------------------------------------- engine
ENGINE_STATE=ready
ensure_dockerd_installed() {
    if [ -z "$(dockerd_bin)" ]; then
        apt_install docker.io
        ENGINE_STATE="installed, "
    fi
    [ -n "$(dockerd_bin)" ] || die "docker.io installed but no dockerd found"
    [ -x "$DOCKER_CLI" ] || DOCKER_CLI=/usr/bin/docker
}

start_dockerd() {
    local pid args=()
    ENGINE_STATE="${ENGINE_STATE/ready/}"
    as_root mkdir -p "$RUN_DIR" "$EXEC_ROOT" "$DATA_ROOT"
    # Our own (empty) config file: an /etc/docker/daemon.json meant for another engine
    # (a "hosts" entry, say) would otherwise make dockerd refuse our flags.
    [ -f "$DAEMON_JSON" ] || echo '{}' | as_root tee "$DAEMON_JSON" >/dev/null
    if pid=$(our_pid); then
        note "dockerd $pid is running but does not answer yet: waiting"
    else
        # Left by a dockerd that died: a stale pidfile or socket makes the next one fail.
        as_root rm -f "$PIDFILE" "$SOCK"
        args=(
            --host "unix://$SOCK"
            --pidfile "$PIDFILE"
            --data-root "$DATA_ROOT"
            --exec-root "$EXEC_ROOT"
            --config-file "$DAEMON_JSON"
            --iptables="$IPTABLES"
            --shutdown-timeout 2
            --log-level warn
        )
        [ -z "$STORAGE_DRIVER" ] || args+=(--storage-driver "$STORAGE_DRIVER")
        note "dockerd ${args[*]}  (log: $LOG)"
        # setsid: out of our session and process group, so it outlives this script and
        # a ^C here; all of its fds away from ours (a pipe left open would hang callers).
        as_root setsid "$(dockerd_bin)" "${args[@]}" </dev/null >>"$LOG" 2>&1 8>&- 9>&- &
        pid=$!
        disown || true
    fi
    local deadline=$((SECONDS + START_TIMEOUT))
    until engine_up; do
        # Gone already (bad flag, iptables, storage driver ...): say why now, not in 60 s.
        if ! alive "$pid"; then
            tail -n 20 "$LOG" >&2 || true
            die "dockerd exited before answering (log: $LOG)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n 20 "$LOG" >&2 || true
            die "dockerd did not answer on $SOCK within ${START_TIMEOUT}s (log: $LOG)"
        fi
        sleep 0.2
    done
    ENGINE_STATE="${ENGINE_STATE}started"
    as_root rm -f "$SMOKE_STAMP"
}

# Containers must not reach past this machine: a packet to an address no bridge holds
# would leave by the default route (eth0) and be NATed onto the outside network (seen
# here: a test's wget to a stale 172.x address got an HTTP 404 from outside). Everything
# forwarded out of a Docker bridge to anything but a Docker bridge is rejected at once;
# between bridges Docker's own isolation chains decide, as in production. In DOCKER-USER,
# the chain Docker keeps for its user's rules and never flushes; re-added when missing.
GUARD=MAGNUM-RS-EGRESS
ensure_egress_guard() {
    [ "$IPTABLES" != false ] || { EGRESS_STATE="off (--iptables=false)"; return 0; }
    command -v iptables >/dev/null 2>&1 || { EGRESS_STATE="off (no iptables)"; return 0; }
    if as_root iptables -w 5 -n -L "$GUARD" >/dev/null 2>&1 &&
        as_root iptables -w 5 -C DOCKER-USER -i docker0 -j "$GUARD" 2>/dev/null &&
        as_root iptables -w 5 -C DOCKER-USER -i br-+ -j "$GUARD" 2>/dev/null; then
        EGRESS_STATE=ready
        return 0
    fi
    as_root iptables -w 5 -N "$GUARD" 2>/dev/null || as_root iptables -w 5 -F "$GUARD"
    as_root iptables -w 5 -A "$GUARD" -o docker0 -j RETURN
    as_root iptables -w 5 -A "$GUARD" -o br-+ -j RETURN
    as_root iptables -w 5 -A "$GUARD" -j REJECT --reject-with icmp-net-unreachable
    as_root iptables -w 5 -N DOCKER-USER 2>/dev/null || true
    as_root iptables -w 5 -C DOCKER-USER -i docker0 -j "$GUARD" 2>/dev/null ||
        as_root iptables -w 5 -I DOCKER-USER 1 -i docker0 -j "$GUARD"
    as_root iptables -w 5 -C DOCKER-USER -i br-+ -j "$GUARD" 2>/dev/null ||
        as_root iptables -w 5 -I DOCKER-USER 1 -i br-+ -j "$GUARD"
    EGRESS_STATE=added
}

ensure_engine() {
    if engine_up; then
        return 0
    fi
    [ "$EXTERNAL" = 0 ] || die "no Docker engine answers on MAGNUM_TEST_DOCKER_HOST=$HOST_URL"
    ensure_dockerd_installed
    start_dockerd
}

# --------------------------------------------------------------------------- image
# /bin/busybox from busybox-static: one static binary, so the image needs no libraries.
static_busybox() {
    local b
    for b in /bin/busybox /usr/bin/busybox; do
        # (ldd exits 1 on a static binary: read its words, not its status)
        if [ -x "$b" ] && [[ "$(LC_ALL=C ldd "$b" 2>&1 || true)" == *"not a dynamic executable"* ]]; then
            echo "$b"
            return 0
        fi
    done
    return 1
}

IMAGE_STATE=ready
ensure_image() {
    if dk image inspect "$IMAGE" >/dev/null 2>&1; then
        return 0
    fi
    local busybox rootfs applet
    if ! busybox=$(static_busybox); then
        apt_install busybox-static   # replaces Debian's dynamic busybox, if any
        busybox=$(static_busybox) || die "busybox-static installed but no static /bin/busybox"
        IMAGE_STATE="busybox-static installed, "
    else
        IMAGE_STATE=""
    fi
    rootfs=$(mktemp -d)
    # shellcheck disable=SC2064 # expand now
    trap "rm -rf '$rootfs'" EXIT
    mkdir -p "$rootfs"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var/www,proc,sys,dev}
    chmod 1777 "$rootfs/tmp"
    cp "$busybox" "$rootfs/bin/busybox"
    # Every applet at its usual place (sh, wget, nc, httpd, sleep, echo, cat, ...).
    while read -r applet; do
        if [ -z "$applet" ] || [ "$applet" = bin/busybox ]; then continue; fi
        mkdir -p "$rootfs/$(dirname "$applet")"
        ln -sf /bin/busybox "$rootfs/$applet"
    done < <("$busybox" --list-full)
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$rootfs/etc/passwd"
    printf 'root:x:0:\nnogroup:x:65534:\n' >"$rootfs/etc/group"
    echo magnum-rs >"$rootfs/var/www/index.html"
    tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --sort=name -c . |
        dk import \
            -c 'ENV PATH=/usr/sbin:/usr/bin:/sbin:/bin' \
            -c 'LABEL org.opencontainers.image.title=magnum-rs-busybox-test' \
            -c 'CMD ["/bin/sh"]' \
            - "$IMAGE" >/dev/null
    rm -rf "$rootfs"
    trap - EXIT
    IMAGE_STATE="${IMAGE_STATE}imported from $busybox ($("$busybox" 2>&1 | head -n1 | awk '{print $2}'))"
}

# --------------------------------------------------------------------------- proofs
RUN_OUT=""
try_run() { RUN_OUT=$(timeout 30 env DOCKER_HOST="$HOST_URL" "$DOCKER_CLI" run --rm "$IMAGE" echo ok 2>&1) && [ "$RUN_OUT" = ok ]; }
run_ok() {
    try_run || { printf '%s\n' "$RUN_OUT" >&2; die "docker run --rm $IMAGE echo ok failed"; }
}

SMOKE=magnum-rs-smoke
smoke_cleanup() {
    dk rm -f "$SMOKE-web" >/dev/null 2>&1 || true
    dk network rm "$SMOKE-a" "$SMOKE-b" >/dev/null 2>&1 || true
}
# A client container on network $1 fetching $2; busybox's own `timeout`, since its
# `wget -T` segfaults (busybox 1.35 static, seen here). --init (tini as PID 1): a
# process that is PID 1 of its namespace ignores SIGTERM, so `timeout 3 wget` as the
# container's command is not stopped and waits out TCP's ~130 s connect timeout (seen
# here). Retries for 5 s: httpd may still be starting.
fetch_from() {
    dk run --rm --init --network "$1" "$IMAGE" sh -c \
        "for i in 1 2 3 4 5 6 7 8 9 10; do timeout 3 wget -qO- '$2' 2>/dev/null && exit 0; sleep 0.5; done; exit 1"
}
# One try only, and it must fail: reaching it from elsewhere is what isolation forbids.
unreachable_from() {
    ! dk run --rm --init --network "$1" "$IMAGE" timeout 3 wget -qO- "$2" >/dev/null 2>&1
}
check_network() {
    local ip out
    smoke_cleanup
    trap smoke_cleanup EXIT
    dk network create --label magnum-rs.smoke=1 "$SMOKE-a" >/dev/null
    dk network create --label magnum-rs.smoke=1 "$SMOKE-b" >/dev/null
    dk run -d --name "$SMOKE-web" --label magnum-rs.smoke=1 --network "$SMOKE-a" "$IMAGE" \
        sh -c 'echo hello-from-web > /var/www/index.html && exec httpd -f -p 80 -h /var/www' >/dev/null
    ip=$(dk inspect -f "{{(index .NetworkSettings.Networks \"$SMOKE-a\").IPAddress}}" "$SMOKE-web")
    [ -n "$ip" ] || die "check: the web container got no address on $SMOKE-a"
    out=$(fetch_from "$SMOKE-a" "http://$SMOKE-web/") || die "check: $SMOKE-web not reached by name from $SMOKE-a"
    [ "$out" = hello-from-web ] || die "check: by name from $SMOKE-a got: $out"
    out=$(fetch_from "$SMOKE-a" "http://$ip/") || die "check: $ip not reached from $SMOKE-a"
    [ "$out" = hello-from-web ] || die "check: by IP from $SMOKE-a got: $out"
    # The three must-fail probes at once: each waits out its 3 s (isolation DROPs).
    local p1 p2 p3
    unreachable_from "$SMOKE-b" "http://$ip/" & p1=$!
    unreachable_from bridge "http://$ip/" & p2=$!
    unreachable_from "$SMOKE-b" "http://$SMOKE-web/" & p3=$!
    wait "$p1" || die "check: $ip REACHED from $SMOKE-b: networks are not isolated"
    wait "$p2" || die "check: $ip REACHED from the default bridge: networks are not isolated"
    wait "$p3" || die "check: name $SMOKE-web resolved and reached from $SMOKE-b"
    smoke_cleanup
    trap - EXIT
    as_root touch "$SMOKE_STAMP" 2>/dev/null || true
    say network ok "httpd on $SMOKE-a ($ip): reached by name and IP from $SMOKE-a; not from $SMOKE-b nor bridge"
}

write_env() {
    mkdir -p "$DEPS"
    local tmp="$ENV_FILE.tmp.$$"
    cat >"$tmp" <<EOF
# Written by scripts/docker.sh; read by the tests (set -a; . .deps/docker-env).
DOCKER_HOST=$HOST_URL
MAGNUM_TEST_DOCKER_IMAGE=$IMAGE
EOF
    mv -f "$tmp" "$ENV_FILE"
}

# --------------------------------------------------------------------------- commands
cmd_start() {
    ensure_engine
    say engine "$ENGINE_STATE" "$HOST_URL: dockerd $(server_version)"
    if [ "$EXTERNAL" = 0 ]; then
        ensure_egress_guard
        say egress "$EGRESS_STATE" "containers reach only Docker bridges and this host (iptables $GUARD)"
    fi
    ensure_image
    say image "$IMAGE_STATE" "$IMAGE"
    # An engine that answers but cannot run a container (seen here: its docker0 bridge
    # deleted under it) is ours to restart, once.
    if ! try_run && [ "$EXTERNAL" = 0 ]; then
        note "docker run failed: ${RUN_OUT//$'\n'/ }"
        note "restarting our dockerd"
        cmd_stop >/dev/null
        ENGINE_STATE=restarted
        start_dockerd
        say engine restarted "$HOST_URL: dockerd $(server_version)"
    fi
    run_ok
    say run ok "docker run --rm $IMAGE echo ok"
    # The networking proof once per engine start (a stamp in the run dir), every time for
    # an engine that is not ours; MAGNUM_TEST_DOCKER_SKIP_CHECK=1 skips it.
    if [ "${MAGNUM_TEST_DOCKER_SKIP_CHECK:-}" != 1 ] && { [ "$EXTERNAL" = 1 ] || [ ! -e "$SMOKE_STAMP" ]; }; then
        check_network
    fi
    write_env
    say docker-env written "$ENV_FILE"
}

cmd_check() {
    engine_up || die "no Docker engine answers on $HOST_URL (scripts/docker.sh start)"
    [ "$EXTERNAL" = 1 ] || ensure_egress_guard
    ensure_image
    run_ok
    say run ok "docker run --rm $IMAGE echo ok"
    check_network
}

cmd_status() {
    local pid rc=0
    if engine_up; then
        say engine up "$HOST_URL: dockerd $(server_version)"
    else
        say engine down "$HOST_URL"
        rc=3
    fi
    if [ "$EXTERNAL" = 0 ]; then
        if pid=$(our_pid); then say dockerd running "pid $pid, log $LOG"; else say dockerd stopped ""; fi
    fi
    if [ "$rc" = 0 ]; then
        if dk image inspect "$IMAGE" >/dev/null 2>&1; then say image present "$IMAGE"; else say image missing "$IMAGE"; fi
        say containers "$(dk ps -q | wc -l)" "running"
    fi
    if [ -f "$ENV_FILE" ]; then say docker-env present "$ENV_FILE"; else say docker-env missing "$ENV_FILE"; fi
    return "$rc"
}

cmd_stop() {
    local pid cpid
    [ "$EXTERNAL" = 0 ] || { say engine skipped "MAGNUM_TEST_DOCKER_HOST=$HOST_URL is not ours to stop"; return 0; }
    if ! pid=$(our_pid); then
        say dockerd stopped "(was not running)"
        return 0
    fi
    # Running containers killed first: dockerd would give each --shutdown-timeout (2 s)
    # of SIGTERM, which a PID 1 ignores, and then waits on containerd (about 11 s with
    # one `sleep` running, seen here; 1 s after this).
    local running
    running=$(timeout 10 env DOCKER_HOST="$HOST_URL" "$DOCKER_CLI" ps -q 2>/dev/null || true)
    if [ -n "$running" ]; then
        # shellcheck disable=SC2086 # one id a word
        timeout 20 env DOCKER_HOST="$HOST_URL" "$DOCKER_CLI" kill $running >/dev/null 2>&1 || true
    fi
    as_root kill -TERM "$pid"
    if ! wait_until "$STOP_TIMEOUT" eval '! alive '"$pid"; then
        note "dockerd $pid still there after ${STOP_TIMEOUT}s: SIGKILL"
        as_root kill -KILL "$pid" 2>/dev/null || true
        wait_until 5 eval '! alive '"$pid" || true
    fi
    # The containerd that dockerd started, when it outlived it (it does after a SIGKILL).
    cpid=$(cat "$EXEC_ROOT/containerd/containerd.pid" 2>/dev/null || true)
    if [ -n "$cpid" ] && alive "$cpid" && grep -q containerd "/proc/$cpid/comm" 2>/dev/null; then
        as_root kill -TERM "$cpid" 2>/dev/null || true
        wait_until 10 eval '! alive '"$cpid" || as_root kill -KILL "$cpid" 2>/dev/null || true
    fi
    # dockerd bind-mounts its data-root onto itself (rshared) and marks that with
    # exec-root/unmount-on-shutdown, but here leaves the mount behind on SIGTERM, which
    # keeps `rm -rf` of the data-root from working: undo it.
    if [ -e "$EXEC_ROOT/unmount-on-shutdown" ] && mountpoint -q "$DATA_ROOT" 2>/dev/null; then
        as_root umount "$DATA_ROOT" 2>/dev/null || note "could not unmount $DATA_ROOT (still busy)"
    fi
    as_root rm -f "$PIDFILE" "$SOCK" "$SMOKE_STAMP" "$EXEC_ROOT/unmount-on-shutdown"
    say dockerd stopped "pid $pid"
}

cmd_objects() {
    engine_up || die "no Docker engine answers on $HOST_URL (scripts/docker.sh start)"
    local label
    for label in magnum.managed magnum.bay.uuid magnum.container.uuid; do
        dk ps -aq --no-trunc --filter "label=$label" | sed 's/^/container /'
        dk network ls -q --no-trunc --filter "label=$label" | sed 's/^/network /'
    done | sort -u
}

cmd_leftovers() {
    local before=${1:?usage: scripts/docker.sh leftovers FILE}
    local left kind id
    left=$(cmd_objects | comm -13 <(sort -u "$before") -)
    if [ -z "$left" ]; then
        say leftovers none "no container or network left on the engine"
        return 0
    fi
    while read -r kind id; do
        if [ "$kind" = container ]; then
            note "$(dk ps -a --no-trunc --filter "id=$id" --format 'container {{.Names}} {{.Status}} {{.Labels}}')"
        else
            note "$(dk network ls --no-trunc --filter "id=$id" --format 'network {{.Name}} {{.Labels}}')"
        fi
    done <<<"$left"
    die "the tests left $(wc -l <<<"$left") Docker object(s) on the engine (listed above)"
}

# start and check one at a time per machine (two starts at once would both launch a
# dockerd, and the loser dies on the pidfile; two checks would share network names).
lock() {
    command -v flock >/dev/null 2>&1 || return 0
    local f=/run/lock/magnum-rs-docker.lock
    [ -w "$(dirname "$f")" ] || f=/tmp/magnum-rs-docker.lock
    exec 8>>"$f"
    flock -w 120 8 || die "another scripts/docker.sh has held the lock for 120 s"
}

case "${1:-start}" in
    start) lock; cmd_start ;;
    check) lock; cmd_check ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    objects) cmd_objects ;;
    leftovers) cmd_leftovers "${2:-}" ;;
    -h | --help | help) sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command: $1 (start|stop|status|check|objects|leftovers)" ;;
esac
