#!/usr/bin/env bash
# A real Keystone (Debian's python3-keystone under uwsgi) on 127.0.0.1:5000 for the tests,
# provisioned with the users, projects, roles and catalog they expect; then writes
# .deps/keystone-env. See docs/keystone.md.
#
# Idempotent and bounded: when Keystone is already up and provisioned a run takes about a
# second; from nothing (apt-get install included) well under a minute. All state lives in
# .deps/keystone/ (git-ignored): config, SQLite database (WAL), fernet and credential keys,
# logs, uwsgi pid file. Root work (apt-get) goes through sudo when not run as root.
#
# Usage: scripts/keystone.sh [start]   install when missing, start when down, provision
#        scripts/keystone.sh stop      stop our uwsgi (leaves the state)
#        scripts/keystone.sh restart   stop, then start
#        scripts/keystone.sh status    is it up? (exit 0 up, 3 down)
#        scripts/keystone.sh reset     stop and delete .deps/keystone/ (the next start is a first start)
# Knob, for trying the script out beside the real one (a copy of the repository, another
# port): MAGNUM_TEST_KEYSTONE_PORT (5000). The tests expect 5000.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS="$ROOT/.deps"
STATE="$DEPS/keystone"
ENV_FILE="$DEPS/keystone-env"
PROVISION="$ROOT/scripts/keystone/provision.py"

KS_HOST=127.0.0.1 KS_PORT=${MAGNUM_TEST_KEYSTONE_PORT:-5000}
KS_URL="http://$KS_HOST:$KS_PORT/v3"
REGION=RegionOne
# The bootstrap admin (user admin, project admin, role admin, also system-scoped admin).
# A fixed password: this Keystone listens on loopback only and holds test data only.
ADMIN_USER=admin ADMIN_PASSWORD=admin-password ADMIN_PROJECT=admin

CONF="$STATE/keystone.conf"
DB="$STATE/keystone.db"
PIDFILE="$STATE/uwsgi.pid"
UWSGI_LOG="$STATE/uwsgi.log"
KS_LOG="$STATE/keystone.log"
STAMP="$STATE/.initialised" # holds the python3-keystone version the database was synced with
PACKAGES=(python3-keystone uwsgi-core uwsgi-plugin-python3)
UWSGI=/usr/bin/uwsgi-core
UWSGI_PLUGIN=/usr/lib/uwsgi/plugins/python3_plugin.so
KS_MANAGE=/usr/bin/keystone-manage
KS_WSGI=/usr/bin/keystone-wsgi-public
PY=/usr/bin/python3 # Debian's, the one python3-keystone is installed for
START_TIMEOUT=30 STOP_TIMEOUT=10

say() { printf '%-14s %-10s %s\n' keystone "$1" "$2"; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'keystone: %s\n' "$*" >&2; exit 1; }

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

# Keystone's tools run with Debian's python and nothing of the caller's python setup.
ks_env() { env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV PYTHONNOUSERSITE=1 "$@"; }

# --------------------------------------------------------------------------- packages
packages_ok() {
    [ -x "$KS_MANAGE" ] && [ -x "$KS_WSGI" ] && [ -x "$UWSGI" ] && [ -f "$UWSGI_PLUGIN" ] && [ -x "$PY" ]
}

install_packages() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install ${PACKAGES[*]} by hand (Debian/Ubuntu only)"
    note "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 8>&- 9>&-
    note "apt-get install --no-install-recommends ${PACKAGES[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=120 "${PACKAGES[@]}" >/dev/null 8>&- 9>&-
    packages_ok || die "installed ${PACKAGES[*]} but $KS_MANAGE, $KS_WSGI, $UWSGI or $UWSGI_PLUGIN is missing"
}

ks_version() { dpkg-query -W -f '${Version}' python3-keystone 2>/dev/null || echo unknown; }

# --------------------------------------------------------------------------- HTTP probe
# GET path on Keystone's port with bash alone (no curl needed): prints the status code,
# then the body. Fails when nothing accepts the connection within 3 s.
http_get() {
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: application/json\r\n\r\n" "$3" "$1" "$2" >&3
        IFS=" " read -r _ code _ <&3 || exit 1
        printf "%s\n" "$code"
        cat <&3' _ "$KS_HOST" "$KS_PORT" "$1" 2>/dev/null
}

# up: Keystone answers GET /v3 with its v3 version document; taken: something else
# listens on the port; free: nothing does.
probe() {
    local out
    if ! out=$(http_get /v3); then
        if timeout 2 bash -c "exec 3<>/dev/tcp/$KS_HOST/$KS_PORT" 2>/dev/null; then
            echo taken
        else
            echo free
        fi
        return
    fi
    if [ "${out%%$'\n'*}" = 200 ] && [[ $out == *identity-v3* ]]; then
        echo up
    else
        echo taken
    fi
}

# --------------------------------------------------------------------------- our uwsgi
our_pid() { # the pid of the uwsgi started from this state dir, when it runs
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(tr -dc 0-9 <"$PIDFILE")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF "OS_KEYSTONE_CONFIG_FILES=$CONF" || return 1
    echo "$pid"
}

port_owner() { # best effort: who listens on the port
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$KS_PORT" 2>/dev/null | grep -o 'users:(.*)' | head -n1 || true
}

write_conf() { # prints "changed" when keystone.conf was (re)written
    local tmp="$CONF.tmp.$$"
    cat >"$tmp" <<EOF
# Written by scripts/keystone.sh (rewritten on every run; edit the script, not this file).
[DEFAULT]
log_file = $KS_LOG
use_stderr = false
debug = false

[database]
# check_same_thread=false: sqlite3 connections are closed by whichever thread collects them
# (otherwise each such close logs a ProgrammingError); timeout: wait up to 15 s for a lock.
connection = sqlite:///$DB?check_same_thread=false&timeout=15

[token]
provider = fernet

[fernet_tokens]
key_repository = $STATE/fernet-keys

[fernet_receipts]
key_repository = $STATE/fernet-keys

[credential]
provider = fernet
key_repository = $STATE/credential-keys

[cache]
enabled = true
backend = dogpile.cache.memory

[identity]
# bcrypt at cost 4: a login costs ~10 ms instead of ~250 ms. Test Keystone only.
password_hash_rounds = 4
EOF
    if cmp -s "$tmp" "$CONF"; then
        rm -f "$tmp"
    else
        mv -f "$tmp" "$CONF"
        echo changed
    fi
}

manage() { # keystone-manage with our config; its output goes to the log unless it fails
    local out
    out=$(ks_env "$KS_MANAGE" --config-file "$CONF" "$@" 2>&1 8>&- 9>&-) || {
        printf '%s\n' "$out" | tail -n 20 >&2
        die "keystone-manage $1 failed (log: $KS_LOG)"
    }
}

# First start (or a new python3-keystone): schema, WAL, keys, bootstrap.
init_state() { # prints what it did
    local version
    version=$(ks_version)
    [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$version" ] && [ -f "$DB" ] && return 0
    note "keystone-manage db_sync ($version)"
    manage db_sync
    # Without WAL, Keystone's own writes soon fail with "database is locked".
    ks_env "$PY" -c 'import sqlite3, sys
c = sqlite3.connect(sys.argv[1], timeout=10)
mode = c.execute("PRAGMA journal_mode=WAL").fetchone()[0]
sys.exit(0 if mode.lower() == "wal" else "journal_mode is " + mode)' "$DB" || die "could not put $DB in WAL mode"
    local user group
    user=$(id -un) group=$(id -gn)
    mkdir -p "$STATE/fernet-keys" "$STATE/credential-keys"
    if [ ! -f "$STATE/fernet-keys/0" ]; then
        manage fernet_setup --keystone-user "$user" --keystone-group "$group"
    fi
    if [ ! -f "$STATE/credential-keys/0" ]; then
        manage credential_setup --keystone-user "$user" --keystone-group "$group"
    fi
    chmod 700 "$STATE/fernet-keys" "$STATE/credential-keys" # Keystone warns on every token otherwise
    bootstrap
    echo "$version" >"$STAMP"
    printf 'initialised, '
}

bootstrap() { # idempotent; also resets the bootstrap admin's password
    note "keystone-manage bootstrap (admin, RegionOne, identity at $KS_URL/)"
    manage bootstrap --bootstrap-username "$ADMIN_USER" --bootstrap-password "$ADMIN_PASSWORD" \
        --bootstrap-project-name "$ADMIN_PROJECT" --bootstrap-role-name admin \
        --bootstrap-service-name keystone --bootstrap-region-id "$REGION" \
        --bootstrap-public-url "$KS_URL/" --bootstrap-internal-url "$KS_URL/" \
        --bootstrap-admin-url "$KS_URL/"
}

start_uwsgi() {
    local pid log
    for log in "$UWSGI_LOG" "$KS_LOG"; do # keep one old log, when it has grown past 64 MiB
        if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt 67108864 ]; then
            mv -f "$log" "$log.1"
        fi
    done
    : >>"$UWSGI_LOG"
    rm -f "$PIDFILE"
    # Its own session, no stdin, no inherited descriptors (callers' lock files): it outlives
    # this script, a CI step and the terminal. One worker process (the token/catalog cache
    # is per process, so revocations stay coherent), 8 threads, "Connection: close" (with
    # keep-alive, idle client sockets starve the threads).
    (
        for fd in "/proc/$BASHPID/fd"/*; do
            fd=${fd##*/}
            case "$fd" in [0-2] | *[!0-9]*) continue ;; esac
            eval "exec $fd>&-"
        done
        cd "$STATE"
        export OS_KEYSTONE_CONFIG_FILES="$CONF"
        exec env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV PYTHONNOUSERSITE=1 \
            setsid nohup "$UWSGI" --plugin python3 \
            --http-socket "$KS_HOST:$KS_PORT" --wsgi-file "$KS_WSGI" \
            --env "OS_KEYSTONE_CONFIG_FILES=$CONF" \
            --master --processes 1 --threads 8 --lazy-apps --need-app --die-on-term \
            --add-header "Connection: close" --buffer-size 65535 \
            --disable-logging --pidfile "$PIDFILE" \
            </dev/null >>"$UWSGI_LOG" 2>&1
    ) &
    disown $! 2>/dev/null || true
    local child=$! deadline=$((SECONDS + START_TIMEOUT)) why="" owner
    until [ "$(probe)" = up ]; do
        if ! kill -0 "$child" 2>/dev/null; then
            why="uwsgi exited"
        elif [ "$SECONDS" -ge "$deadline" ]; then
            why="no answer within ${START_TIMEOUT} s"
        fi
        if [ -n "$why" ]; then
            tail -n 15 "$UWSGI_LOG" >&2 || true
            [ ! -f "$KS_LOG" ] || tail -n 5 "$KS_LOG" >&2
            stop_uwsgi >/dev/null 2>&1 || kill -TERM "$child" 2>/dev/null || true
            owner=$(port_owner)
            die "Keystone did not start on $KS_HOST:$KS_PORT: $why (logs: $UWSGI_LOG, $KS_LOG)${owner:+; the port is held by $owner}"
        fi
        sleep 0.3
    done
    pid=$(our_pid) || die "something answers on $KS_HOST:$KS_PORT, but our uwsgi (pid file $PIDFILE) is not running: $(port_owner)"
    echo "$pid"
}

stop_uwsgi() { # prints the pid it stopped; fails when ours is not running
    local pid deadline
    pid=$(our_pid) || return 1
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            note "uwsgi $pid did not stop within ${STOP_TIMEOUT} s: SIGKILL"
            pkill -KILL -P "$pid" 2>/dev/null || true
            kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
    done
    rm -f "$PIDFILE"
    echo "$pid"
}

# --------------------------------------------------------------------------- commands
provision() {
    local out rc=0
    out=$(KS_URL="$KS_URL" KS_ADMIN_USER="$ADMIN_USER" KS_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
        KS_ADMIN_PROJECT="$ADMIN_PROJECT" ks_env "$PY" "$PROVISION" "$ENV_FILE" 2>&1) || rc=$?
    if [ "$rc" = 3 ] && our_pid >/dev/null; then
        note "the bootstrap admin cannot log in: re-running keystone-manage bootstrap"
        bootstrap
        sleep 1.1 # it revoked the admin's tokens; Keystone compares revocations to the second
        rc=0
        out=$(KS_URL="$KS_URL" KS_ADMIN_USER="$ADMIN_USER" KS_ADMIN_PASSWORD="$ADMIN_PASSWORD" \
            KS_ADMIN_PROJECT="$ADMIN_PROJECT" ks_env "$PY" "$PROVISION" "$ENV_FILE" 2>&1) || rc=$?
    fi
    if [ "$rc" = 3 ]; then
        die "the Keystone on $KS_HOST:$KS_PORT was not started from $STATE and refuses our bootstrap admin ($ADMIN_USER/$ADMIN_PROJECT): stop it ($(port_owner)) and run this again"
    fi
    [ "$rc" = 0 ] || { printf '%s\n' "$out" >&2; die "provisioning failed"; }
    say provisioned "$out"
}

cmd_start() {
    local state="" pid status restarted=0
    mkdir -p "$STATE"
    if ! packages_ok; then
        install_packages
        state="installed, "
    fi
    local conf_changed=0
    [ -z "$(write_conf)" ] || conf_changed=1
    if pid=$(our_pid) && ! tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--http-socket $KS_HOST:$KS_PORT "; then
        note "our uwsgi $pid listens on another port: stopping it"
        stop_uwsgi >/dev/null
    fi
    status=$(probe)
    if [ "$status" = up ] && pid=$(our_pid); then
        if [ "$conf_changed" = 1 ] || { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" != "$(ks_version)" ]; }; then
            note "keystone.conf or python3-keystone changed: restarting uwsgi $pid"
            stop_uwsgi >/dev/null
            status=free
            restarted=1
        fi
    fi
    case "$status" in
    up)
        if pid=$(our_pid); then
            state="${state}ready"
        else
            note "a Keystone not started from $STATE answers on $KS_HOST:$KS_PORT ($(port_owner)); using it"
            state="${state}foreign"
            pid="?"
        fi
        ;;
    taken)
        if pid=$(our_pid); then
            # Ours, but not answering (hung, or still starting): replace it.
            note "our uwsgi $pid does not answer GET $KS_URL: restarting it"
            stop_uwsgi >/dev/null || true
            [ "$(probe)" = free ] || die "port $KS_PORT is still taken after stopping uwsgi $pid: $(port_owner)"
        else
            die "$KS_HOST:$KS_PORT is taken by something that is not a Keystone ($(port_owner)): stop it, then run this again"
        fi
        state="$state$(init_state)"
        pid=$(start_uwsgi)
        state="${state}started"
        ;;
    free)
        our_pid >/dev/null && stop_uwsgi >/dev/null # ours, but not listening: start afresh
        state="$state$(init_state)"
        pid=$(start_uwsgi)
        state="${state}$([ "$restarted" = 1 ] && echo restarted || echo started)"
        ;;
    esac
    say "$state" "$KS_URL (python3-keystone $(ks_version), uwsgi pid $pid, state $STATE)"
    provision
    say "env written" "$ENV_FILE"
}

cmd_stop() {
    local pid
    if pid=$(stop_uwsgi); then
        say stopped "uwsgi pid $pid"
    elif [ "$(probe)" = up ]; then
        say "not ours" "a Keystone not started from $STATE answers on $KS_HOST:$KS_PORT ($(port_owner)): left alone"
    else
        say stopped "(was not running)"
    fi
}

cmd_status() { # reads only: no lock, changes nothing
    local pid status
    status=$(probe)
    if [ "$status" = up ] && pid=$(our_pid); then
        say up "$KS_URL (uwsgi pid $pid, state $STATE)"
    elif [ "$status" = up ]; then
        say up "$KS_URL (not started from $STATE: $(port_owner))"
    elif pid=$(our_pid); then
        say "not ready" "uwsgi pid $pid runs but GET $KS_URL does not answer 200"
        return 3
    elif [ "$status" = taken ]; then
        say down "$KS_HOST:$KS_PORT is taken by something else: $(port_owner)"
        return 3
    else
        say down "nothing listens on $KS_HOST:$KS_PORT"
        return 3
    fi
}

cmd_reset() {
    cmd_stop
    rm -rf "$STATE" "$ENV_FILE"
    say reset "removed $STATE and $ENV_FILE"
}

lock() { # one run at a time: the second waits for the first (an install takes a while)
    mkdir -p "$STATE"
    command -v flock >/dev/null 2>&1 || return 0
    exec 8>"$DEPS/.keystone.lock"
    flock -w 600 8 || die "another scripts/keystone.sh run holds $DEPS/.keystone.lock"
}

main() {
    local cmd=${1:-start}
    case "$cmd" in
    start) lock; cmd_start ;;
    stop) lock; cmd_stop ;;
    restart) lock; cmd_stop; cmd_start ;;
    status) cmd_status ;;
    reset) lock; cmd_reset ;;
    -h | --help | help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' ;;
    *) die "unknown command '$cmd' (start, stop, restart, status, reset)" ;;
    esac
}

main "$@"
