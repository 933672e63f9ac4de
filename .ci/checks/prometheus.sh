#!/usr/bin/env bash
# Alert rules and dashboard of helm/capture-worker, with promtool (Debian's `prometheus` package;
# .ci/run installs it when missing). Run from anywhere; exits non-zero on any failure.
#   promtool check rules files/alerts.yaml, and promtool test rules files/alerts.test.yaml
#   every alert has a test case where it fires and one where it must not
#   every alert's runbook_url names a section of docs/runbook.md
#   the PrometheusRule the chart renders with another selector, topic names and runbook URL
#     (ci/all-enabled-values.yaml plus the --set below) passes promtool check rules
#   the dashboard ConfigMap holds files/dashboard.json unchanged
# The real Prometheus that loads these rules and runs every dashboard query against a running
# worker is test/integration/observability/prometheus.test.ts (npm test).
CHECK_NAME=prometheus
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
started=$SECONDS

CHART="$REPO_ROOT/helm/capture-worker"
PROMTOOL="${PROMTOOL:-$(command -v promtool || echo /usr/bin/promtool)}"
[[ -x "$PROMTOOL" ]] || die "promtool not found: apt-get install -y prometheus (Debian's package gives /usr/bin/promtool)"
ensure_helm
ensure_py_tools
log "$("$PROMTOOL" --version 2>&1 | head -1)"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

log "promtool check rules files/alerts.yaml"
"$PROMTOOL" check rules "$CHART/files/alerts.yaml" | sed 's/^/  /' || failures=$((failures + 1))
log "promtool test rules files/alerts.test.yaml"
(cd "$CHART/files" && "$PROMTOOL" test rules alerts.test.yaml) 2>&1 | sed 's/^/  /' || failures=$((failures + 1))

log "test coverage and runbook sections"
"$PY" - "$CHART/files/alerts.yaml" "$CHART/files/alerts.test.yaml" "$REPO_ROOT/docs/runbook.md" <<'PYEOF' || failures=$((failures + 1))
import re, sys, yaml
rules = yaml.safe_load(open(sys.argv[1]))
tests = yaml.safe_load(open(sys.argv[2]))
runbook = open(sys.argv[3]).read()
# GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -.
anchors = {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-")
           for h in re.findall(r"^#{1,6} (.+)$", runbook, re.M)}
fires, quiet = set(), set()
for t in tests["tests"]:
    for case in t.get("alert_rule_test", []):
        (fires if case.get("exp_alerts") else quiet).add(case["alertname"])
problems = []
alerts = [r for g in rules["groups"] for r in g["rules"] if "alert" in r]
for r in alerts:
    a = r["alert"]
    if a not in fires: problems.append(f"{a}: no test case where it fires")
    if a not in quiet: problems.append(f"{a}: no test case where it must not fire")
    url = r.get("annotations", {}).get("runbook_url", "")
    anchor = url.rpartition("#")[2]
    if not url.startswith("docs/runbook.md#") or anchor not in anchors:
        problems.append(f"{a}: runbook_url {url!r} is not a section of docs/runbook.md")
    for key in ("summary", "description"):
        if not r.get("annotations", {}).get(key): problems.append(f"{a}: no {key} annotation")
    if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
        problems.append(f"{a}: severity label missing or unknown")
for p in problems: print(f"  ERROR {p}")
if problems: sys.exit(1)
print(f"  {len(alerts)} alerts: each fires and stays quiet in a test, each has severity, summary, description and a runbook section")
PYEOF

log "the chart's PrometheusRule and dashboard ConfigMap"
if "$HELM" template capture-worker "$CHART" --namespace payments -f "$CHART/ci/all-enabled-values.yaml" \
    --set config.topics.requested=orders.capture-requests.v2 --set config.topics.retry=orders.capture-retry_v2 \
    >"$work/rendered.yaml" 2>"$work/err"; then
  "$PY" - "$work/rendered.yaml" "$work/rules.yaml" "$CHART/files/dashboard.json" <<'PYEOF' || failures=$((failures + 1))
import json, sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
rule = next(d for d in docs if d["kind"] == "PrometheusRule")
yaml.safe_dump({"groups": rule["spec"]["groups"]}, open(sys.argv[2], "w"))
text = yaml.safe_dump(rule["spec"])
problems = []
for want in ('namespace="payments", job="payments-capture-worker"', 'topic="orders.capture-requests.v2"',
             r'topic=~"orders\\.capture-retry_v2\\..+"', "https://git.example.com/payments/capture-worker/blob/main/docs/runbook.md#"):
    if want not in "".join(r["expr"] + r.get("annotations", {}).get("runbook_url", "") for g in rule["spec"]["groups"] for r in g["rules"]):
        problems.append(f"rendered rules lack {want}")
for left in ('job="capture-worker"', "payments.capture.", "docs/runbook.md#"):
    for g in rule["spec"]["groups"]:
        for r in g["rules"]:
            if left in r["expr"] or r.get("annotations", {}).get("runbook_url", "").startswith(left):
                problems.append(f"{r.get('alert')}: default {left} left in the rendered rule")
cm = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].endswith("-dashboard"))
if json.loads(cm["data"]["capture-worker.json"]) != json.load(open(sys.argv[3])):
    problems.append("the dashboard ConfigMap differs from files/dashboard.json")
if cm["metadata"]["labels"].get("grafana_dashboard") != "1":
    problems.append("the dashboard ConfigMap lacks the sidecar label grafana_dashboard: \"1\"")
for p in problems: print(f"  ERROR {p}")
sys.exit(1 if problems else 0)
PYEOF
  "$PROMTOOL" check rules "$work/rules.yaml" | sed 's/^/  /' || failures=$((failures + 1))
else
  sed 's/^/  /' "$work/err"; failures=$((failures + 1))
fi

if ((failures)); then
  die "$failures step(s) failed ($((SECONDS - started))s)"
fi
log "alert rules and dashboard checks passed ($((SECONDS - started))s)"
