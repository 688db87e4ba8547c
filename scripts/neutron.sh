#!/usr/bin/env bash
# A real Neutron server (Debian's python3-neutron, ML2, API only: no agents, no broker) on
# 127.0.0.1:9696 for the tests, with Keystone auth against the test Keystone of
# scripts/keystone.sh and its database in the local MariaDB; then writes .deps/neutron-env.
# See docs/neutron.md.
#
# Idempotent and bounded: when the server is already up a run takes well under a second;
# from installed packages (migrations included) about 6 s; the first apt-get install
# about 15 s more. All state lives in .deps/neutron/ (git-ignored): config, api-paste.ini,
# logs, pid file, lock dir; the data lives in MariaDB (database neutron_test, user neutron).
# Root work (apt-get, starting MariaDB) goes through sudo when not run as root.
#
# Usage: scripts/neutron.sh [start]   install when missing, start when down (MariaDB too)
#        scripts/neutron.sh stop      stop our neutron-server (leaves the state and the data)
#        scripts/neutron.sh restart   stop, then start
#        scripts/neutron.sh status    is it up? (exit 0 up, 3 down)
#        scripts/neutron.sh reset     stop, drop the database, delete .deps/neutron/
# Knobs, for trying the script out beside the real one: MAGNUM_TEST_NEUTRON_PORT (9696),
# MAGNUM_TEST_NEUTRON_DB_NAME (neutron_test). The tests expect 9696.
set -euo pipefail
shopt -s inherit_errexit

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS="$ROOT/.deps"
STATE="$DEPS/neutron"
ENV_FILE="$DEPS/neutron-env"
KS_ENV_FILE="$DEPS/keystone-env"
PASTE_SRC="$ROOT/scripts/neutron/api-paste.ini"

NT_HOST=127.0.0.1 NT_PORT=${MAGNUM_TEST_NEUTRON_PORT:-9696}
NT_URL="http://$NT_HOST:$NT_PORT"
DB_HOST=127.0.0.1 DB_PORT=3306
DB_NAME=${MAGNUM_TEST_NEUTRON_DB_NAME:-neutron_test}
# A dedicated MariaDB user with a fixed password: loopback only, test data only.
DB_USER=neutron DB_PASSWORD=neutron-password
DB_URL="mysql+pymysql://$DB_USER:$DB_PASSWORD@$DB_HOST:$DB_PORT/$DB_NAME?charset=utf8"
PHYSNET=public # the flat physical network an admin may put an external network on

CONF="$STATE/neutron.conf"
PASTE="$STATE/api-paste.ini"
PIDFILE="$STATE/neutron-server.pid"
OUT_LOG="$STATE/neutron-server.out" # stdout/stderr: start-up failures
NT_LOG="$STATE/neutron-server.log"  # oslo.log
MIGRATE_LOG="$STATE/migrate.log"
STAMP="$STATE/.initialised" # holds the python3-neutron version the database was migrated with
PACKAGES=(python3-neutron python3-pymysql)
DB_PACKAGES=(mariadb-server mariadb-client)
MARIADBD=/usr/sbin/mariadbd
PY=/usr/bin/python3 # Debian's, the one python3-neutron is installed for
START_TIMEOUT=60 STOP_TIMEOUT=15 DB_TIMEOUT=30

say() { printf '%-14s %-10s %s\n' neutron "$1" "$2"; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'neutron: %s\n' "$*" >&2; exit 1; }

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

# Neutron's tools run with Debian's python and nothing of the caller's python setup.
nt_env() { env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV PYTHONNOUSERSITE=1 "$@"; }

# --------------------------------------------------------------------------- packages
packages_ok() {
    [ -x "$PY" ] && [ -f /usr/lib/python3/dist-packages/neutron/cmd/eventlet/server/__init__.py ] &&
        [ -d /usr/lib/python3/dist-packages/pymysql ]
}

apt_install() {
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* by hand (Debian/Ubuntu only)"
    if [ -z "${APT_UPDATED:-}" ]; then
        note "apt-get update"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 8>&- 9>&-
        APT_UPDATED=1
    fi
    note "apt-get install --no-install-recommends $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        -o DPkg::Lock::Timeout=120 "$@" >/dev/null 8>&- 9>&-
}

install_packages() {
    apt_install "${PACKAGES[@]}"
    packages_ok || die "installed ${PACKAGES[*]} but the neutron or pymysql module is missing"
}

nt_version() { dpkg-query -W -f '${Version}' python3-neutron 2>/dev/null || echo unknown; }

# --------------------------------------------------------------------------- MariaDB
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null; }

# The server's root, over TCP without password (this machine's setup), else over the socket
# as the system root (a fresh Debian install: root@localhost uses unix_socket auth).
db_root() {
    if mysql --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -uroot -e 'SELECT 1' >/dev/null 2>&1; then
        mysql --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -uroot "$@"
    else
        as_root mysql -uroot "$@"
    fi
}

db_user() { mysql --protocol=tcp -h "$DB_HOST" -P "$DB_PORT" -u"$DB_USER" -p"$DB_PASSWORD" "$@"; }

ensure_mariadb() { # prints what it did
    port_open "$DB_HOST" "$DB_PORT" && return 0
    if [ ! -x "$MARIADBD" ] || ! command -v mysql >/dev/null 2>&1; then
        apt_install "${DB_PACKAGES[@]}"
        [ -x "$MARIADBD" ] || die "installed ${DB_PACKAGES[*]} but $MARIADBD is missing"
        printf 'mariadb installed, '
    fi
    note "starting MariaDB ($MARIADBD)"
    as_root install -d -o mysql -g mysql -m 755 /run/mysqld
    if [ ! -d /var/lib/mysql/mysql ]; then
        as_root mariadb-install-db --user=mysql --datadir=/var/lib/mysql >/dev/null 2>&1 ||
            die "mariadb-install-db failed"
    fi
    as_root start-stop-daemon --start --oknodo --background --exec "$MARIADBD" 8>&- 9>&-
    local deadline=$((SECONDS + DB_TIMEOUT))
    until port_open "$DB_HOST" "$DB_PORT"; do
        [ "$SECONDS" -lt "$deadline" ] ||
            die "MariaDB did not answer on $DB_HOST:$DB_PORT within ${DB_TIMEOUT} s (see /var/log/mysql/ or journal)"
        sleep 0.3
    done
    printf 'mariadb started, '
}

ensure_database() { # database and user; idempotent (resets the user's password)
    db_user -e "SELECT 1" "$DB_NAME" >/dev/null 2>&1 && return 0
    note "creating database $DB_NAME and user $DB_USER"
    local host sql="CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8;"
    for host in 127.0.0.1 localhost; do
        sql+="CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        sql+="ALTER USER '$DB_USER'@'$host' IDENTIFIED BY '$DB_PASSWORD';"
        sql+="GRANT ALL PRIVILEGES ON \`$DB_NAME\`.* TO '$DB_USER'@'$host';"
    done
    db_root -e "$sql" || die "could not create database $DB_NAME / user $DB_USER in MariaDB"
    db_user -e "SELECT 1" "$DB_NAME" >/dev/null 2>&1 || die "user $DB_USER cannot use $DB_NAME after creating it"
}

# --------------------------------------------------------------------------- Keystone
ks_get() { # VAR from .deps/keystone-env
    sed -n "s/^$1=//p" "$KS_ENV_FILE" | head -n1
}

ensure_keystone() {
    local url
    if [ -f "$KS_ENV_FILE" ]; then
        url=$(ks_get MAGNUM_TEST_KEYSTONE_URL)
        url=${url#http://} url=${url%%/*}
        port_open "${url%:*}" "${url##*:}" && return 0
    fi
    note "the test Keystone is down or not provisioned: running scripts/keystone.sh start"
    bash "$ROOT/scripts/keystone.sh" start >&2 || die "scripts/keystone.sh start failed"
}

# --------------------------------------------------------------------------- HTTP probe
http_get() { # prints the status code, then the body (bash alone, no curl needed)
    # shellcheck disable=SC2016 # the inner script expands its own arguments
    timeout 3 bash -c '
        exec 3<>"/dev/tcp/$1/$2" || exit 1
        printf "GET %s HTTP/1.0\r\nHost: %s:%s\r\nAccept: application/json\r\n\r\n" "$3" "$1" "$2" >&3
        IFS=" " read -r _ code _ <&3 || exit 1
        printf "%s\n" "$code"
        cat <&3' _ "$NT_HOST" "$NT_PORT" "$1" 2>/dev/null
}

# up: Neutron answers GET / with its version list; taken: something else listens; free.
probe() {
    local out
    if ! out=$(http_get /); then
        if port_open "$NT_HOST" "$NT_PORT"; then echo taken; else echo free; fi
        return
    fi
    if [ "${out%%$'\n'*}" = 200 ] && [[ $out == *'"v2.0"'* ]]; then echo up; else echo taken; fi
}

# --------------------------------------------------------------------------- our server
our_pid() {
    local pid
    [ -f "$PIDFILE" ] || return 1
    pid=$(tr -dc 0-9 <"$PIDFILE")
    [ -n "$pid" ] && [ -r "/proc/$pid/cmdline" ] || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--config-file $CONF" || return 1
    echo "$pid"
}

port_owner() {
    command -v ss >/dev/null 2>&1 || return 0
    ss -Hltnp "sport = :$NT_PORT" 2>/dev/null | grep -o 'users:(.*)' | head -n1 || true
}

write_file() { # write_file DEST < content; prints "changed" when DEST was (re)written
    local tmp="$1.tmp.$$"
    cat >"$tmp"
    if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv -f "$tmp" "$1"; echo changed; fi
}

write_conf() { # prints "changed" when neutron.conf or api-paste.ini changed
    [ -f "$KS_ENV_FILE" ] || die "$KS_ENV_FILE is missing"
    local ks_url ks_base
    ks_url=$(ks_get MAGNUM_TEST_KEYSTONE_URL)
    ks_base=${ks_url%/v3}
    mkdir -p "$STATE/lib" "$STATE/lock"
    write_file "$PASTE" <"$PASTE_SRC"
    write_file "$CONF" <<EOF
# Written by scripts/neutron.sh (rewritten on every run; edit the script, not this file).
[DEFAULT]
bind_host = $NT_HOST
bind_port = $NT_PORT
api_paste_config = $PASTE
state_path = $STATE/lib
log_file = $NT_LOG
use_stderr = false
debug = false
auth_strategy = keystone
core_plugin = ml2
service_plugins = router
# API only: everything in the one process, no broker (fake transport), no agents.
api_workers = 0
rpc_workers = 0
rpc_state_report_workers = 0
transport_url = fake:/
notify_nova_on_port_status_changes = false
notify_nova_on_port_data_changes = false
dhcp_agent_notification = false
allow_overlapping_ips = true

[oslo_messaging_notifications]
driver = noop

[oslo_concurrency]
lock_path = $STATE/lock

[database]
connection = $DB_URL
max_pool_size = 10

[keystone_authtoken]
www_authenticate_uri = $ks_url
auth_url = $ks_base
auth_type = password
username = $(ks_get MAGNUM_TEST_KEYSTONE_SERVICE_USER)
password = $(ks_get MAGNUM_TEST_KEYSTONE_SERVICE_PASSWORD)
project_name = $(ks_get MAGNUM_TEST_KEYSTONE_SERVICE_PROJECT)
user_domain_name = $(ks_get MAGNUM_TEST_KEYSTONE_SERVICE_USER_DOMAIN)
project_domain_name = $(ks_get MAGNUM_TEST_KEYSTONE_SERVICE_PROJECT_DOMAIN)
# Validations are cached in process for 300 s (keystonemiddleware's default).
service_token_roles_required = true

[quotas]
# Unlimited by default (the defaults of 10 routers / 10 security groups per project are hit
# quickly by tests). Per-project limits remain settable by an admin through the API:
# PUT /v2.0/quotas/{project_id} {"quota": {"network": 1}}; DELETE it to go back to -1.
quota_network = -1
quota_subnet = -1
quota_port = -1
quota_router = -1
quota_floatingip = -1
quota_security_group = -1
quota_security_group_rule = -1
quota_rbac_policy = -1

[ml2]
type_drivers = local,flat,vlan,vxlan
tenant_network_types = vxlan
mechanism_drivers =
extension_drivers = port_security

[ml2_type_flat]
flat_networks = $PHYSNET

[ml2_type_vxlan]
vni_ranges = 1:10000

[securitygroup]
firewall_driver = noop

[agent]
report_interval = 0
EOF
}

migrate() { # prints what it did
    local version
    version=$(nt_version)
    if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$version" ] &&
        [ "$(db_user -N -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema='$DB_NAME' AND table_name='alembic_version'" 2>/dev/null)" = 1 ]; then
        return 0
    fi
    note "neutron-db-manage upgrade heads ($version)"
    nt_env "$PY" -c 'from neutron.db.migration.cli import main; main()' \
        --config-file "$CONF" upgrade heads >"$MIGRATE_LOG" 2>&1 8>&- 9>&- || {
        tail -n 20 "$MIGRATE_LOG" >&2
        die "the migrations failed (log: $MIGRATE_LOG)"
    }
    echo "$version" >"$STAMP"
    printf 'migrated, '
}

start_server() {
    local log
    for log in "$OUT_LOG" "$NT_LOG"; do # keep one old log, when it has grown past 64 MiB
        if [ -f "$log" ] && [ "$(stat -c %s "$log")" -gt 67108864 ]; then mv -f "$log" "$log.1"; fi
    done
    : >>"$OUT_LOG"
    rm -f "$PIDFILE"
    # Its own session (os.setsid, so stop can signal the whole group), no stdin, no inherited
    # descriptors (callers' lock files): it outlives this script, a CI step and the terminal.
    (
        for fd in "/proc/$BASHPID/fd"/*; do
            fd=${fd##*/}
            case "$fd" in [0-2] | *[!0-9]*) continue ;; esac
            eval "exec $fd>&-"
        done
        cd "$STATE"
        echo "$BASHPID" >"$PIDFILE"
        exec env -u PYTHONPATH -u PYTHONHOME -u VIRTUAL_ENV PYTHONNOUSERSITE=1 \
            nohup "$PY" -c 'import os
try:
    os.setsid()
except OSError:
    pass
from neutron.cmd.eventlet.server import main
main()' --config-file "$CONF" </dev/null >>"$OUT_LOG" 2>&1
    ) &
    disown $! 2>/dev/null || true
    local child=$! deadline=$((SECONDS + START_TIMEOUT)) why="" owner
    until [ "$(probe)" = up ]; do
        if ! kill -0 "$child" 2>/dev/null; then
            why="neutron-server exited"
        elif [ "$SECONDS" -ge "$deadline" ]; then
            why="no answer within ${START_TIMEOUT} s"
        fi
        if [ -n "$why" ]; then
            tail -n 15 "$OUT_LOG" >&2 || true
            [ ! -f "$NT_LOG" ] || grep -E 'ERROR|CRITICAL' "$NT_LOG" | tail -n 10 >&2 || true
            stop_server >/dev/null 2>&1 || kill -TERM "$child" 2>/dev/null || true
            owner=$(port_owner)
            die "Neutron did not start on $NT_HOST:$NT_PORT: $why (logs: $OUT_LOG, $NT_LOG)${owner:+; the port is held by $owner}"
        fi
        sleep 0.3
    done
    our_pid || die "something answers on $NT_HOST:$NT_PORT, but our neutron-server (pid file $PIDFILE) is not running: $(port_owner)"
}

stop_server() { # prints the pid it stopped; fails when ours is not running
    local pid deadline
    pid=$(our_pid) || return 1
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            note "neutron-server $pid did not stop within ${STOP_TIMEOUT} s: SIGKILL"
            kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
            sleep 0.5
            break
        fi
        sleep 0.1
    done
    rm -f "$PIDFILE"
    echo "$pid"
}

# --------------------------------------------------------------------------- commands
write_env() {
    write_file "$ENV_FILE" >/dev/null <<EOF
# Written by scripts/neutron.sh: the loopback test Neutron (API only, Keystone auth).
# Sourceable (set -a; . .deps/neutron-env; set +a). Users and tokens: .deps/keystone-env.
MAGNUM_TEST_NEUTRON_URL=$NT_URL
MAGNUM_TEST_NEUTRON_API_URL=$NT_URL/v2.0
MAGNUM_TEST_NEUTRON_SERVICE_TYPE=network
MAGNUM_TEST_NEUTRON_VERSION=$(nt_version)
MAGNUM_TEST_NEUTRON_KEYSTONE_URL=$(ks_get MAGNUM_TEST_KEYSTONE_URL)
MAGNUM_TEST_NEUTRON_EXTERNAL_PHYSNET=$PHYSNET
MAGNUM_TEST_NEUTRON_DB_URL=$DB_URL
EOF
}

cmd_start() {
    local state="" pid status restarted=0 conf_changed=0
    mkdir -p "$STATE"
    if ! packages_ok; then
        install_packages
        state="installed, "
    fi
    ensure_keystone
    [ -z "$(write_conf)" ] || conf_changed=1
    status=$(probe)
    if [ "$status" = up ] && pid=$(our_pid); then
        if [ "$conf_changed" = 1 ] || { [ -f "$STAMP" ] && [ "$(cat "$STAMP")" != "$(nt_version)" ]; }; then
            note "neutron.conf, api-paste.ini or python3-neutron changed: restarting neutron-server $pid"
            stop_server >/dev/null
            status=free restarted=1
        fi
    fi
    case "$status" in
    up)
        if pid=$(our_pid); then
            state="${state}ready"
        else
            note "a Neutron not started from $STATE answers on $NT_HOST:$NT_PORT ($(port_owner)); using it"
            state="${state}foreign" pid="?"
        fi
        ;;
    taken | free)
        if [ "$status" = taken ]; then
            if pid=$(our_pid); then
                note "our neutron-server $pid does not answer GET $NT_URL/: restarting it"
                stop_server >/dev/null || true
                [ "$(probe)" = free ] || die "port $NT_PORT is still taken after stopping neutron-server $pid: $(port_owner)"
            else
                die "$NT_HOST:$NT_PORT is taken by something that is not a Neutron ($(port_owner)): stop it, then run this again"
            fi
        else
            our_pid >/dev/null && stop_server >/dev/null # ours, but not listening: start afresh
        fi
        state="$state$(ensure_mariadb)"
        ensure_database
        state="$state$(migrate)"
        pid=$(start_server)
        state="${state}$([ "$restarted" = 1 ] && echo restarted || echo started)"
        ;;
    esac
    say "$state" "$NT_URL (python3-neutron $(nt_version), pid $pid, state $STATE)"
    write_env
    say "env written" "$ENV_FILE"
}

cmd_stop() {
    local pid
    if pid=$(stop_server); then
        say stopped "neutron-server pid $pid"
    elif [ "$(probe)" = up ]; then
        say "not ours" "a Neutron not started from $STATE answers on $NT_HOST:$NT_PORT ($(port_owner)): left alone"
    else
        say stopped "(was not running)"
    fi
}

cmd_status() { # reads only: no lock, changes nothing
    local pid status
    status=$(probe)
    if [ "$status" = up ] && pid=$(our_pid); then
        say up "$NT_URL (pid $pid, state $STATE)"
    elif [ "$status" = up ]; then
        say up "$NT_URL (not started from $STATE: $(port_owner))"
    elif pid=$(our_pid); then
        say "not ready" "neutron-server pid $pid runs but GET $NT_URL/ does not answer 200"
        return 3
    elif [ "$status" = taken ]; then
        say down "$NT_HOST:$NT_PORT is taken by something else: $(port_owner)"
        return 3
    else
        say down "nothing listens on $NT_HOST:$NT_PORT"
        return 3
    fi
}

cmd_reset() {
    cmd_stop
    if port_open "$DB_HOST" "$DB_PORT"; then
        db_root -e "DROP DATABASE IF EXISTS \`$DB_NAME\`" || note "could not drop database $DB_NAME"
    fi
    rm -rf "$STATE" "$ENV_FILE"
    say reset "dropped database $DB_NAME, removed $STATE and $ENV_FILE"
}

lock() { # one run at a time: the second waits for the first (an install takes a while)
    mkdir -p "$STATE"
    command -v flock >/dev/null 2>&1 || return 0
    exec 8>"$DEPS/.neutron.lock"
    flock -w 600 8 || die "another scripts/neutron.sh run holds $DEPS/.neutron.lock"
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
