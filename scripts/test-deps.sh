#!/usr/bin/env bash
# Installs (when missing) and starts (when down) what the tests talk to, then writes
# .deps/test-env for `make test`:
#
#   PostgreSQL on 127.0.0.1:5432   role magnum / password magnum, database magnum_test
#   NATS with JetStream            127.0.0.1:4222
#   python-magnumclient 2.17.0     .deps/venv-magnumclient-2.17.0 (pinned: scripts/constraints/)
#   python-magnumclient 1.1.0      .deps/venv-magnumclient-1.1.0  (run through
#                                  scripts/magnumclient/launch-1.1.0.py)
#   python-magnumclient 4.11.0     .deps/venv-magnumclient-4.11.0
#   python-magnumclient 5.0.0      .deps/venv-magnumclient-5.0.0  (with python-openstackclient:
#                                  5.0.0 has no `magnum`, only `openstack coe ...`)
#
# Idempotent: run it as often as you like; when everything is up it takes a few seconds.
# Debian only (apt-get, pg_ctlcluster, start-stop-daemon). Root work goes through sudo
# when not run as root; the virtualenvs are created as the calling user.
#
# Usage: scripts/test-deps.sh [postgres] [nats] [magnumclient]   (default: all three)
# Knobs (environment), for trying the script out beside the real thing:
#   MAGNUM_TEST_PG_ROLE / _PG_PASSWORD / _PG_DATABASE   (magnum / magnum / magnum_test)
#   MAGNUM_TEST_PG_PORT (5432), MAGNUM_TEST_NATS_PORT (4222)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DEPS="$ROOT/.deps"
PG_HOST=127.0.0.1 PG_PORT=${MAGNUM_TEST_PG_PORT:-5432}
PG_ROLE=${MAGNUM_TEST_PG_ROLE:-magnum}
PG_PASSWORD=${MAGNUM_TEST_PG_PASSWORD:-magnum}
PG_DB=${MAGNUM_TEST_PG_DATABASE:-magnum_test}
NATS_HOST=127.0.0.1 NATS_PORT=${MAGNUM_TEST_NATS_PORT:-4222}
NATS_BIN=/usr/sbin/nats-server NATS_STORE=/var/lib/nats-server NATS_LOG=/var/log/nats-server.log
if [ "$NATS_PORT" != 4222 ]; then
    NATS_STORE="$NATS_STORE-$NATS_PORT" NATS_LOG="/var/log/nats-server-$NATS_PORT.log"
fi
# Ours alone: with --exec only, start-stop-daemon would take any running nats-server
# (another port, a test's own) for ours and start nothing.
NATS_PIDFILE="/run/magnum-rs-nats-server-$NATS_PORT.pid"
# The client versions the tests drive, each in its own pinned virtualenv.
CLIENT_VERSIONS=(2.17.0 1.1.0 4.11.0 5.0.0)
client_venv() { echo "$DEPS/venv-magnumclient-$1"; }
# 1.1.0 imports six without declaring it, and runs through a Python 3 launcher.
# 5.0.0 dropped the `magnum` command: it is only an `openstack coe` plugin.
client_extra_packages() {
    case "$1" in
    1.1.0) echo six ;;
    5.0.0) echo python-openstackclient ;;
    esac
}
client_command() { # version: the command line that runs that version's `magnum`
    local venv
    venv=$(client_venv "$1")
    case "$1" in
    1.1.0) echo "$venv/bin/python $ROOT/scripts/magnumclient/launch-1.1.0.py" ;;
    5.0.0) echo "$venv/bin/openstack" ;;
    *) echo "$venv/bin/magnum" ;;
    esac
}
# The `openstack coe` commands the tests drive through 5.0.0; checked after every install.
OPENSTACK_COE_COMMANDS=("cluster list" "cluster template list" "nodegroup list" "ca show"
    "quotas list" "stats list" "service list")

export DEBIAN_FRONTEND=noninteractive

say() { printf '%-14s %-10s %s\n' "$1" "$2" "$3"; }
note() { printf '  %s\n' "$*" >&2; }
die() { printf 'test-deps: %s\n' "$*" >&2; exit 1; }

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
        -o DPkg::Lock::Timeout=120 "$@" >/dev/null 9>&-
}

port_open() { # host port: true when something accepts a TCP connection
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
}

wait_until() { # seconds command...: polls every 0.2 s until the command succeeds
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$deadline" ] || return 1
        sleep 0.2
    done
}

# --------------------------------------------------------------------------- PostgreSQL
pg_up() {
    if command -v pg_isready >/dev/null 2>&1; then
        pg_isready -q -h "$PG_HOST" -p "$PG_PORT" -t 2
    else
        port_open "$PG_HOST" "$PG_PORT"
    fi
}

# psql as the postgres superuser over the local socket (Debian's peer auth).
pg_admin() {
    if id postgres >/dev/null 2>&1 && command -v runuser >/dev/null 2>&1; then
        (cd / && as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@")
    else
        # Not Debian-managed: try the superuser over TCP (trust or PGPASSWORD).
        psql -X -q -v ON_ERROR_STOP=1 -h "$PG_HOST" -p "$PG_PORT" -U postgres -d postgres "$@"
    fi
}

# A password login over TCP as the test role, and that role owns the test database.
pg_login_ok() {
    local owner
    owner=$(PGPASSWORD="$PG_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -qAt -w \
        -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" \
        -c "SELECT pg_catalog.pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()" \
        2>/dev/null) || return 1
    [ "$owner" = "$PG_ROLE" ]
}

pg_server_version() {
    PGPASSWORD="$PG_PASSWORD" psql -X -qAt -w -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" \
        -c "SHOW server_version" 2>/dev/null | cut -d' ' -f1
}

PG_STATE=ready
pg_start_local() {
    local version
    PG_STATE=""
    if ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
        apt_install postgresql
        PG_STATE="installed, "
    fi
    command -v pg_lsclusters >/dev/null 2>&1 || apt_install postgresql-common
    version=$(pg_lsclusters -h 2>/dev/null | awk '$2 == "main" { print $1 }' | sort -V | tail -n1)
    if [ -z "$version" ]; then
        # shellcheck disable=SC2012 # version directories: plain names
        version=$(basename "$(ls -d /usr/lib/postgresql/*/ | sort -V | tail -n1)")
        note "pg_createcluster -p $PG_PORT $version main"
        local out
        out=$(as_root pg_createcluster -p "$PG_PORT" "$version" main 2>&1 9>&-) || {
            printf '%s\n' "$out" >&2
            die "pg_createcluster $version main failed"
        }
        PG_STATE="${PG_STATE}cluster created, "
    fi
    local port
    port=$(pg_lsclusters -h | awk -v v="$version" '$1 == v && $2 == "main" { print $3 }')
    [ "$port" = "$PG_PORT" ] || die "cluster $version/main is configured for port $port, not $PG_PORT: fix /etc/postgresql/$version/main/postgresql.conf"
    note "pg_ctlcluster $version main start"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start >&2 9>&- ||
        pg_up || die "could not start PostgreSQL $version/main (see /var/log/postgresql/postgresql-$version-main.log)"
    wait_until 30 pg_up || die "PostgreSQL $version/main did not answer on $PG_HOST:$PG_PORT within 30 s"
    PG_STATE="${PG_STATE}started"
}

# Role and database, created when missing; the password is (re)set every time so a
# role left behind with another password still works. Safe to run again and again.
pg_ensure_role_and_db() {
    pg_admin -v role="$PG_ROLE" -v pw="$PG_PASSWORD" -v db="$PG_DB" <<'SQL'
SELECT format('CREATE ROLE %I', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role') \gexec
SELECT format('ALTER ROLE %I WITH LOGIN PASSWORD %L', :'role', :'pw') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
 WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = :'db') \gexec
SELECT format('ALTER DATABASE %I OWNER TO %I', :'db', :'role') \gexec
SQL
}

# When a password login over TCP is still refused, the first matching pg_hba.conf line
# is not a password method (ident, reject, ...). Put one for our role in front.
pg_allow_password_login() {
    local hba marker="# magnum-rs test-deps"
    hba=$(pg_admin -At -c "SHOW hba_file")
    if as_root grep -qF "$marker ($PG_ROLE)" "$hba"; then
        return 1
    fi
    note "adding a password (md5/scram) line for $PG_ROLE on $PG_HOST to $hba"
    local line="host all $PG_ROLE $PG_HOST/32 md5 $marker ($PG_ROLE)"
    local tmp
    tmp=$(mktemp)
    # before the first rule, so it wins
    # shellcheck disable=SC2016 # awk program, not shell
    as_root awk -v line="$line" '!done && $0 !~ /^[[:space:]]*(#|$)/ { print line; done = 1 } { print } END { if (!done) print line }' "$hba" >"$tmp"
    as_root sh -c "cat '$tmp' > '$hba'"
    rm -f "$tmp"
    pg_admin -c "SELECT pg_reload_conf()" >/dev/null
    sleep 0.5
}

ensure_postgres() {
    pg_up || pg_start_local
    command -v psql >/dev/null 2>&1 || { apt_install postgresql-client; PG_STATE="$PG_STATE, client installed"; }
    if ! pg_login_ok; then
        pg_ensure_role_and_db
        if ! pg_login_ok; then
            pg_allow_password_login || true
            pg_login_ok || die "password login as $PG_ROLE to $PG_HOST:$PG_PORT/$PG_DB still fails: check pg_hba.conf"
        fi
        PG_STATE="$PG_STATE, role/db set up"
    fi
    pg_drop_test_schemas
    say postgres "$PG_STATE" "postgres://$PG_ROLE:***@$PG_HOST:$PG_PORT/$PG_DB (PostgreSQL $(pg_server_version))"
}

# Each test makes its own schema (magnum-testkit: t_<12 hex>, t_mig_<10 hex>) and most
# leave it behind; start every run from an empty database instead of a growing one.
pg_drop_test_schemas() {
    local schemas count
    # shellcheck disable=SC2016 # SQL, not shell
    schemas=$(PGPASSWORD="$PG_PASSWORD" psql -qtA -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" -v ON_ERROR_STOP=1 -c "
        SELECT nspname FROM pg_namespace
        WHERE nspname ~ '^t_([0-9a-f]{12}|mig_[0-9a-f]{10})$'" 2>&1) || die "cannot list old test schemas: $schemas"
    [ -n "$schemas" ] || return 0
    count=$(wc -l <<<"$schemas")
    # One transaction per schema (psql autocommits each statement read from stdin): a
    # single transaction dropping hundreds of schemas runs out of lock slots
    # ("out of shared memory ... max_locks_per_transaction").
    sed 's/.*/DROP SCHEMA IF EXISTS "&" CASCADE;/' <<<"$schemas" |
        PGPASSWORD="$PG_PASSWORD" PGOPTIONS='-c client_min_messages=warning' \
            psql -q -h "$PG_HOST" -p "$PG_PORT" -U "$PG_ROLE" -d "$PG_DB" -v ON_ERROR_STOP=1 >/dev/null ||
        die "cannot drop old test schemas"
    PG_STATE="$PG_STATE, $count old test schemas dropped"
}

# --------------------------------------------------------------------------- NATS
nats_info() { # the server's INFO line (sent on connect)
    timeout 3 bash -c "exec 3<>/dev/tcp/$NATS_HOST/$NATS_PORT && head -n1 <&3" 2>/dev/null
}

ensure_nats() {
    local state=ready info
    if ! port_open "$NATS_HOST" "$NATS_PORT"; then
        if [ ! -x "$NATS_BIN" ]; then
            apt_install nats-server
            state=installed
        fi
        # The package may have started one of its own; start ours only when still down.
        if ! port_open "$NATS_HOST" "$NATS_PORT"; then
            as_root mkdir -p "$NATS_STORE"
            as_root start-stop-daemon --start --oknodo --background \
                --pidfile "$NATS_PIDFILE" --make-pidfile --exec "$NATS_BIN" -- \
                -a "$NATS_HOST" -p "$NATS_PORT" -js -sd "$NATS_STORE" -l "$NATS_LOG" >/dev/null 9>&-
            wait_until 15 port_open "$NATS_HOST" "$NATS_PORT" ||
                die "nats-server did not listen on $NATS_HOST:$NATS_PORT within 15 s (see $NATS_LOG)"
            state=$([ "$state" = installed ] && echo "installed, started" || echo started)
        fi
    fi
    info=$(nats_info) || die "something listens on $NATS_HOST:$NATS_PORT but sent no NATS INFO line"
    case "$info" in
    INFO*'"jetstream":true'*) ;;
    INFO*) die "the NATS server on $NATS_HOST:$NATS_PORT runs without JetStream: restart it with -js" ;;
    *) die "something on $NATS_HOST:$NATS_PORT is not a NATS server" ;;
    esac
    local version
    version=$(sed -n 's/.*"version":"\([^"]*\)".*/\1/p' <<<"$info")
    say nats "$state" "nats://$NATS_HOST:$NATS_PORT (nats-server $version, JetStream on)"
}

# --------------------------------------------------------------------------- magnumclient
client_ok() { # version
    local venv
    venv=$(client_venv "$1")
    [ -f "$venv/.magnum-rs-ok" ] &&
        [ "$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("python-magnumclient"))' 2>/dev/null)" = "$1" ]
}

ensure_client() { # version
    local version=$1 state=ready venv constraints
    venv=$(client_venv "$version")
    constraints="$ROOT/scripts/constraints/magnumclient-$version.txt"
    if ! client_ok "$version"; then
        [ -f "$constraints" ] || die "missing $constraints"
        if ! command -v python3 >/dev/null 2>&1; then
            apt_install python3 python3-venv
        elif ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
            apt_install python3-venv
        fi
        rm -rf "$venv"
        mkdir -p "$DEPS"
        note "python3 -m venv $venv; pip install python-magnumclient==$version $(client_extra_packages "$version") (pinned)"
        python3 -m venv "$venv"
        # shellcheck disable=SC2046 # the extra package list is meant to split
        "$venv/bin/python" -m pip install -q --disable-pip-version-check --no-input \
            -c "$constraints" "python-magnumclient==$version" $(client_extra_packages "$version")
        touch "$venv/.magnum-rs-ok"
        client_ok "$version" || die "python-magnumclient $version did not install into $venv"
        state=installed
    fi
    local printed command
    command=$(client_command "$version")
    if [ "$version" = 5.0.0 ]; then
        printed=$(openstack_coe_check "$command") || die "$printed"
        say magnumclient "$state" "$command coe ($printed)"
        return
    fi
    # shellcheck disable=SC2086 # the command line is meant to split
    printed=$($command --version 2>&1) || die "$command --version failed: $printed"
    [ "$printed" = "$version" ] || die "$command --version printed '$printed', expected $version"
    say magnumclient "$state" "$command ($printed)"
}

# `openstack --version` names python-openstackclient, not the plugin: check that the coe
# commands are there instead (without the caller's OS_* settings, which may name a cloud
# that does not exist here). Prints the versions, or what went wrong.
openstack_coe_check() { # the venv's openstack
    local openstack=$1 venv listing osc wanted
    venv=$(dirname "$(dirname "$openstack")")
    # shellcheck disable=SC2046 # one -u per OS_* variable
    listing=$(env $(compgen -e | grep '^OS_' | sed 's/^/-u /') "$openstack" coe --help 2>&1) || {
        echo "$openstack coe --help failed: $listing"
        return 1
    }
    for wanted in "${OPENSTACK_COE_COMMANDS[@]}"; do
        grep -qxF "  coe $wanted" <<<"$listing" || {
            echo "$openstack has no 'coe $wanted' command; coe --help printed: $listing"
            return 1
        }
    done
    osc=$("$venv/bin/python" -c 'import importlib.metadata as m; print(m.version("python-openstackclient"))' 2>&1) || {
        echo "python-openstackclient is missing from $venv: $osc"
        return 1
    }
    echo "python-magnumclient 5.0.0, python-openstackclient $osc, $(grep -c '^  coe ' <<<"$listing") coe commands"
}

ensure_magnumclient() {
    local version
    for version in "${CLIENT_VERSIONS[@]}"; do
        ensure_client "$version"
    done
}

# --------------------------------------------------------------------------- main
write_env() {
    local tmp="$DEPS/test-env.tmp.$$"
    cat >"$tmp" <<EOF
# Written by scripts/test-deps.sh; read by \`make test\` (set -a; . .deps/test-env).
MAGNUM_TEST_DATABASE_URL=postgres://$PG_ROLE:$PG_PASSWORD@$PG_HOST:$PG_PORT/$PG_DB
MAGNUM_TEST_NATS_URL=nats://$NATS_HOST:$NATS_PORT
MAGNUM_TEST_MAGNUMCLIENT_217=$(client_venv 2.17.0)/bin/magnum
MAGNUM_TEST_MAGNUMCLIENT_110_PYTHON=$(client_venv 1.1.0)/bin/python
MAGNUM_TEST_MAGNUMCLIENT_411=$(client_venv 4.11.0)/bin/magnum
MAGNUM_TEST_MAGNUMCLIENT_500_OPENSTACK=$(client_venv 5.0.0)/bin/openstack
EOF
    # Tests that need a NATS server of their own (restarts, faults) start this binary.
    if [ -x "$NATS_BIN" ]; then
        echo "MAGNUM_TEST_NATS_SERVER=$NATS_BIN" >>"$tmp"
    fi
    mv -f "$tmp" "$DEPS/test-env"
}

main() {
    local want=("$@")
    [ ${#want[@]} -gt 0 ] || want=(postgres nats magnumclient)
    mkdir -p "$DEPS"
    # One run at a time (two engineers, or make -j): the second waits for the first.
    # Whatever may leave a daemon running gets `9>&-`, or the daemon would hold the lock.
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$DEPS/.test-deps.lock"
        flock -w 900 9 || die "another test-deps run holds $DEPS/.test-deps.lock"
    fi
    local dep
    for dep in "${want[@]}"; do
        case "$dep" in
        postgres | nats | magnumclient) "ensure_$dep" ;;
        *) die "unknown dependency '$dep' (postgres, nats, magnumclient)" ;;
        esac
    done
    write_env
    say test-env written "$DEPS/test-env"
}

main "$@"
