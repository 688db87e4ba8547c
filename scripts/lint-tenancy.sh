#!/usr/bin/env bash
# Tenant scoping is structural: services' store code starts every query of a project's
# rows from magnum_db::tenancy (find / update_many / delete_many with the caller's Scope).
# Raw sea-orm entry points that bypass it are refused here, unless the line says why with
# a `tenancy: <reason>` comment (e.g. a system-wide sweep).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
pattern='Entity::(find|find_by_id|update_many|delete_many|delete_by_id)\('
hits=$(grep -rnE "$pattern" services/*/src --include='*.rs' | grep -v 'tenancy:' || true)
if [ -n "$hits" ]; then
    echo "tenant scoping bypassed (start from magnum_db::tenancy, or say 'tenancy: <reason>'):" >&2
    echo "$hits" >&2
    exit 1
fi
echo "tenancy: every store query starts from magnum_db::tenancy"
