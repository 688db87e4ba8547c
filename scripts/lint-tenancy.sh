#!/usr/bin/env bash
# Tenant scoping is structural: services' store code starts every query of a project's
# rows from magnum_db::tenancy (find / update_many / delete_many with the caller's Scope).
# Raw sea-orm entry points that bypass it are refused here, unless the line itself or the
# line just above says why with a `tenancy: <reason>` comment (e.g. a system-wide sweep).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
hits=$(find services/*/src -name '*.rs' -print0 | xargs -0 awk '
    FNR == 1 { previous = "" }
    /Entity::(find|find_by_id|update_many|delete_many|delete_by_id)\(/ {
        if ($0 !~ /tenancy:/ && previous !~ /tenancy:/) printf "%s:%d:%s\n", FILENAME, FNR, $0
    }
    { previous = $0 }
')
if [ -n "$hits" ]; then
    echo "tenant scoping bypassed (start from magnum_db::tenancy, or say 'tenancy: <reason>'):" >&2
    echo "$hits" >&2
    exit 1
fi
echo "tenancy: every store query starts from magnum_db::tenancy"
