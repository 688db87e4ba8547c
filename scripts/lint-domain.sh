#!/usr/bin/env bash
# Domain purity: the domain layer of a service (services/*/src/domain.rs and everything
# under services/*/src/domain/) knows nothing of transport, storage or the bus. It must
# not name tonic, prost, sea_orm, async_nats or axum (nor their sub-crates such as
# tonic_health or prost_types). Comment lines are not checked.
#
# Usage: scripts/lint-domain.sh [repo-root]
set -euo pipefail

ROOT=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
cd "$ROOT"

shopt -s nullglob
files=()
for path in services/*/src/domain.rs services/*/src/domain; do
    if [ -d "$path" ]; then
        while IFS= read -r -d '' f; do files+=("$f"); done < <(find "$path" -type f -name '*.rs' -print0)
    else
        files+=("$path")
    fi
done

if [ ${#files[@]} -eq 0 ]; then
    echo "domain purity: no domain modules yet"
    exit 0
fi

forbidden='\b(tonic|prost|sea_orm|async_nats|axum)(_[a-z0-9_]+)?\b'
# file:line:text, then drop lines whose code part starts with a comment
hits=$(grep -nHE "$forbidden" "${files[@]}" | grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|\*|/\*)' || true)
if [ -n "$hits" ]; then
    echo "domain purity: the domain layer must not use tonic, prost, sea_orm, async_nats or axum:" >&2
    echo "$hits" >&2
    exit 1
fi
echo "domain purity: ${#files[@]} domain files clean"
