#!/usr/bin/env bash
# All deployment checks (container image, docker-compose.yml, Helm chart, alert rules and dashboard), for .ci/run.
# Each runs even when an earlier one failed; the exit code is non-zero if any failed.
set -uo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
failed=()
for check in dockerfile compose helm prometheus; do
  started=$SECONDS
  bash "$dir/$check.sh" || failed+=("$check")
  echo "[deploy] $check.sh took $((SECONDS - started))s"
done
if ((${#failed[@]})); then
  echo "[deploy] FAILED: ${failed[*]}"
  exit 1
fi
echo "[deploy] image, compose, chart and alert rule checks passed"
