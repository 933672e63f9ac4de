#!/usr/bin/env bash
# Chart check for helm/capture-worker. Run from anywhere; exits non-zero on any failure.
#
# For the default values and every helm/capture-worker/ci/*-values.yaml:
#   helm lint --strict     (a template `fail`, which lint only logs, counts as a failure)
#   helm template          (values.schema.json applies here too)
#   every rendered core object against the Kubernetes API JSON schemas of the oldest and newest
#     versions the kubernetes-validate package ships (1.25, 1.37), strict: unknown fields fail
#   custom resources (ServiceMonitor, PrometheusRule, ScaledObject) against their upstream CRD schemas from npm
#     plus a strict field list (.ci/checks/validate-crds.mjs)
#   chart policy (.ci/checks/k8s_validate.py): hardening, probes, grace period, selectors...
# Then negative checks: values the chart must reject.
#
# Tools (cached under .stack/tools/): helm built from the Go module proxy, a Python venv with
# kubernetes-validate, node_modules in .ci/checks/ from its lockfile.
CHECK_NAME=helm
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS

CHART="$REPO_ROOT/helm/capture-worker"
K8S_VERSIONS=(1.25 1.37)

ensure_helm
ensure_py_tools
ensure_node_tools
log "helm $("$HELM" version --template '{{.Version}}'), kubernetes-validate $("$PY_BIN/kubernetes-validate" --version | awk '{print $NF}')"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

notes_chart="$work/notes-chart"
cp -r "$CHART" "$notes_chart"
mv "$notes_chart/templates/NOTES.txt" "$notes_chart/NOTES.src"
printf 'notes: |\n{{ tpl (.Files.Get "NOTES.src") . | indent 2 }}\n' >"$notes_chart/templates/zz-notes.yaml"

failures=0
run_case() { # name, values file or ""
  local name="$1" values="$2" args=() out="$work/$1"
  [[ -n "$values" ]] && args=(-f "$values")
  log "values: $name${values:+ (${values#"$REPO_ROOT/"})}"
  if ! "$HELM" lint --strict "$CHART" "${args[@]}" >"$out.lint" 2>&1 || grep -q 'Fail:' "$out.lint"; then
    sed 's/^/  /' "$out.lint"; log "  helm lint FAILED"; return 1
  fi
  log "  helm lint --strict OK"
  if ! "$HELM" template capture-worker "$CHART" --namespace payments "${args[@]}" >"$out.yaml" 2>"$out.err"; then
    sed 's/^/  /' "$out.err"; log "  helm template FAILED"; return 1
  fi
  log "  helm template OK: $(grep -c '^kind:' "$out.yaml") manifests"
  # NOTES.txt is not rendered by `helm template`; render it through a copy of the chart.
  if ! "$HELM" template capture-worker "$notes_chart" --namespace payments "${args[@]}" \
      --show-only templates/zz-notes.yaml >"$out.notes" 2>&1; then
    sed 's/^/  /' "$out.notes"; log "  NOTES.txt FAILED to render"; return 1
  fi
  log "  NOTES.txt renders ($(grep -c . "$out.notes") lines)"
  local kv_args=()
  for v in "${K8S_VERSIONS[@]}"; do kv_args+=(--k8s-version "$v"); done
  "$PY" "$CHECKS_DIR/k8s_validate.py" "${kv_args[@]}" --crd-out "$out.crds.json" --env-out "$out.env.json" "$out.yaml" || return 1
  (cd "$CHECKS_DIR" && node validate-crds.mjs "$out.crds.json") || return 1
  app_config_check "$name" "$out.env.json" || return 1
}

# The worker's own start-up validation (src/config/config.ts) on the ConfigMap the chart renders.
TSX="$REPO_ROOT/node_modules/.bin/tsx"
app_config_check() { # label, env json
  if [[ ! -x "$TSX" ]]; then
    log "  NOTE worker config acceptance skipped: no node_modules/.bin/tsx (run npm ci in the repository)"
    return 0
  fi
  # The chart leaves the Antom client id to the user (NOTES warns); stand one in for the default values.
  "$PY" - "$2" "$1" >"$2.envs" <<'PYEOF'
import json, sys
env = json.load(open(sys.argv[1]))
label = f"the {sys.argv[2]} values' ConfigMap"
if not env.get("ANTOM_CLIENT_ID"):
    env["ANTOM_CLIENT_ID"] = "SET-BY-USER"
    label += " (config.antom.clientId stood in)"
print(json.dumps({label: env}))
PYEOF
  (cd "$REPO_ROOT" && "$TSX" "$CHECKS_DIR/app-config-check.ts" "$2.envs")
}

run_case default "" || failures=$((failures + 1))
for f in "$CHART"/ci/*-values.yaml; do
  run_case "$(basename "$f" -values.yaml)" "$f" || failures=$((failures + 1))
done

# The chart must refuse these (schema or render-time checks), each for the expected reason.
log "negative checks: values the chart must reject"
reject() { # description, expected message (ERE), helm args...
  local what="$1" want="$2"; shift 2
  if "$HELM" template capture-worker "$CHART" "$@" >/dev/null 2>"$work/neg.err"; then
    log "  NOT rejected: $what"; failures=$((failures + 1))
  elif ! grep -qE "$want" "$work/neg.err"; then
    log "  rejected for another reason than expected ($want): $what"; sed 's/^/    /' "$work/neg.err"
    failures=$((failures + 1))
  else
    log "  rejected: $what — $(grep -m1 -oE "$want.{0,80}" "$work/neg.err")"
  fi
}
reject "misspelled top-level key" "additional properties 'replicaCont'" --set replicaCont=3
reject "misspelled nested key" "additional properties 'broker'" --set config.kafka.broker=x
reject "grace period not above SHUTDOWN_GRACE_MS" "must exceed config.shutdownGraceMs" --set config.shutdownGraceMs=45000
reject "HPA and KEDA together" "not both" --set keda.enabled=true
reject "a key path instead of PEM contents" "merchantPrivateKey'?: .*does not match pattern" \
  --set keys.merchantPrivateKey=/keys/merchant-private.pem
reject "only one of the two keys" "set both keys" --set-string "keys.merchantPrivateKey=-----BEGIN PRIVATE KEY-----
x
-----END PRIVATE KEY-----"
reject "min.insync.replicas above replication" "cannot exceed" --set config.topics.minInsyncReplicas=4
reject "unknown log level" "logLevel" --set config.logLevel=verbose
reject "broker without a port" "brokers/0" --set "config.kafka.brokers={kafka}"
reject "retry max delay below base delay" "maxDelayMs must be at least" --set config.retry.baseDelayMs=5000 --set config.retry.maxDelayMs=1000
reject "API timeout below the worker's minimum" "apiTimeoutMs" --set config.apiTimeoutMs=50
reject "SASL protocol without a mechanism" "needs config.kafka.sasl.mechanism" --set config.kafka.securityProtocol=SASL_SSL
reject "unknown SASL mechanism" "mechanism" --set config.kafka.securityProtocol=SASL_SSL --set config.kafka.sasl.mechanism=gssapi
reject "client certificate without its key" "certKey and config.kafka.tls.keyKey" --set config.kafka.securityProtocol=SSL --set config.kafka.tls.existingSecret=s --set config.kafka.tls.certKey=tls.crt
reject "registry credentials without their Secret" "schemaRegistryAuth.existingSecret" --set config.schemaRegistryAuth.userInfoKey=user-info
reject "initial API concurrency below its minimum" "apiConcurrency.initial must be at least" --set config.apiConcurrency.min=20 --set config.apiConcurrency.initial=5
reject "API latency tolerance of 1 (every window would cut)" "latencyTolerance" --set config.apiConcurrency.latencyTolerance=1
reject "alert selector with an unquoted value" "selector'?: .*does not match pattern" --set-string prometheusRule.selector=job=capture-worker
reject "runbook URL with its own anchor" "runbookUrl'?: .*does not match pattern" --set prometheusRule.runbookUrl=https://x.example/runbook.md#top

# The validators themselves must catch broken manifests: break a copy of the all-enabled render.
log "negative checks: manifests the validators must reject"
broken() { # description, python expression mutating `docs` (a list of dicts), validator
  local what="$1" mutate="$2" validator="$3"
  "$PY" - "$work/all-enabled.yaml" "$work/broken.yaml" <<PYEOF
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
kind = lambda k: next(d for d in docs if d["kind"] == k)
$mutate
yaml.safe_dump_all(docs, open(sys.argv[2], "w"))
PYEOF
  local kv_args=() rc=0
  for v in "${K8S_VERSIONS[@]}"; do kv_args+=(--k8s-version "$v"); done
  if [[ "$validator" == crd ]]; then
    "$PY" "$CHECKS_DIR/k8s_validate.py" "${kv_args[@]}" --crd-out "$work/broken.json" "$work/broken.yaml" >/dev/null || true
    (cd "$CHECKS_DIR" && node validate-crds.mjs "$work/broken.json") >"$work/broken.out" 2>&1 || rc=$?
  else
    "$PY" "$CHECKS_DIR/k8s_validate.py" "${kv_args[@]}" --crd-out "$work/broken.json" "$work/broken.yaml" >"$work/broken.out" 2>&1 || rc=$?
  fi
  if ((rc == 0)); then
    log "  NOT caught: $what"; failures=$((failures + 1))
  else
    log "  caught: $what — $(grep -m1 ERROR "$work/broken.out" | sed 's/^ *ERROR //' | cut -c1-140)"
  fi
}
broken "unknown field in a container" 'kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["imagePullPolcy"] = "Always"' core
broken "wrong type in a core object" 'kind("Service")["spec"]["ports"][0]["port"] = "http"' core
broken "writable root filesystem" 'kind("Deployment")["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False' core
broken "grace period below SHUTDOWN_GRACE_MS" 'kind("Deployment")["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] = 10' core
broken "misspelled ServiceMonitor endpoint field" 'kind("ServiceMonitor")["spec"]["endpoints"][0]["intervall"] = "30s"' crd
broken "wrong type in ScaledObject" 'kind("ScaledObject")["spec"]["maxReplicaCount"] = "many"' crd
broken "unknown Kafka trigger parameter" 'kind("ScaledObject")["spec"]["triggers"][0]["metadata"]["lagTreshold"] = "5"' crd
broken "misspelled field in an alert rule" 'kind("PrometheusRule")["spec"]["groups"][0]["rules"][0]["fore"] = "5m"' crd
broken "alert without a runbook_url" 'kind("PrometheusRule")["spec"]["groups"][0]["rules"][0]["annotations"].pop("runbook_url")' crd
broken "dashboard ConfigMap that is not JSON" 'next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard"))["data"]["capture-worker.json"] = "{"' core

if ((failures)); then
  die "$failures case(s) failed ($((SECONDS - started))s)"
fi
log "all chart checks passed ($((SECONDS - started))s)"
