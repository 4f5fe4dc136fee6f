#!/usr/bin/env bash
# Every `npm run bench:*` once with tiny rounds (BENCH_SMOKE=1), so a benchmark that no longer runs is seen the day
# it breaks. Each must finish and print its ratios; its numbers are not judged (they mean nothing at this size).
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t benches < <(node -e 'for (const s of Object.keys(require("./package.json").scripts)) if (s.startsWith("bench:") && s !== "bench:smoke") console.log(s)')
total=$SECONDS
for bench in "${benches[@]}"; do
  started=$SECONDS
  echo "bench-smoke: $bench"
  BENCH_SMOKE=1 npm run --silent "$bench"
  echo "bench-smoke: $bench finished in $((SECONDS - started)) s"
done
echo "bench-smoke: ${#benches[@]} benchmarks in $((SECONDS - total)) s"
