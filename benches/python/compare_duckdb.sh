#!/usr/bin/env bash
# compare_duckdb.sh DIR [N] : rates the first N records (default 2,000,000) of DIR/cdrs.csv at DIR/tariff.toml
# (a `wbill gen --cdrs` month) with `wbill cdr rate` and with the DuckDB SQL of rate_duckdb.py, alternately,
# twice each, printing wall time and peak memory of every run; then checks that both give the same summary
# byte for byte and the same rated records (sorted: DuckDB does not keep the input order).
# WBILL=path picks the binary (default: target/release/wbill); DuckDB is installed in target/bench-venv.
set -euo pipefail
DIR=$1
N=${2:-2000000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=${WBILL:-$ROOT/target/release/wbill}
VENV=$ROOT/target/bench-venv
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q duckdb
fi
W=$(mktemp -d "${TMPDIR:-/tmp}/compare-duckdb.XXXXXX")
trap 'rm -rf "$W"' EXIT
head -n $((N + 1)) "$DIR/cdrs.csv" > "$W/cdrs.csv"
echo "input: $(($(wc -l < "$W/cdrs.csv") - 1)) records, $(du -m "$W/cdrs.csv" | cut -f1) MB of CSV; tariff $DIR/tariff.toml;" \
  "$(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg)"
P=(--tariff "$DIR/tariff.toml" --from 2024-05-01 --to 2024-05-31)
for round in 1 2; do
  /usr/bin/time -f "wbill  round $round: %e s wall, %U s user, %S s sys, %M KB peak" \
    "$BIN" cdr rate --cdrs "$W/cdrs.csv" "${P[@]}" --out "$W/w-rated.csv" --summary "$W/w-summary.csv" --lenient \
    2> "$W/wbill.stderr" || { cat "$W/wbill.stderr" >&2; exit 1; }
  grep -v -e ': warning: ' -e 'more issues' "$W/wbill.stderr" >&2
  /usr/bin/time -f "duckdb round $round: %e s wall, %U s user, %S s sys, %M KB peak" \
    "$VENV/bin/python" "$ROOT/benches/python/rate_duckdb.py" --cdrs "$W/cdrs.csv" "${P[@]}" \
    --out "$W/d-rated.csv" --summary "$W/d-summary.csv"
done
cmp "$W/w-summary.csv" "$W/d-summary.csv" && echo "summaries: identical ($(($(wc -l < "$W/w-summary.csv") - 1)) rows)"
# the rated records, sorted, without CUSTOMER_EXTERNAL_ID and PARTNER_ORG_ID (no events here: both empty)
LC_ALL=C sort "$W/w-rated.csv" > "$W/w-sorted.csv"
LC_ALL=C sort "$W/d-rated.csv" > "$W/d-sorted.csv"
cmp "$W/w-sorted.csv" "$W/d-sorted.csv" && echo "rated records: identical once sorted ($(($(wc -l < "$W/w-rated.csv") - 1)) rows)"
