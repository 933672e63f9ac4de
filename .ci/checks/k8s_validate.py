#!/usr/bin/env python3
"""Validate the manifests `helm template` rendered for helm/capture-worker.

1. Every core Kubernetes object against the API's JSON schemas shipped in the
   kubernetes-validate package, strict variant (unknown fields are errors), for each
   --k8s-version given. A kind with no schema is an error, not a skip.
2. Custom resources (ServiceMonitor, PrometheusRule, ScaledObject) are not in those schemas: they are written
   to --crd-out as JSON for validate-crds.mjs (upstream CRD schemas + a strict field list).
3. Chart policy the schemas cannot express: pod hardening, probes on the http port, resources,
   the /tmp emptyDir, terminationGracePeriodSeconds above SHUTDOWN_GRACE_MS, config checksums,
   selectors that pick the worker pods and never the init Job's.

Usage: k8s_validate.py --k8s-version 1.25 --k8s-version 1.37 --crd-out crds.json rendered.yaml
"""
import argparse
import json
import sys

import yaml
from kubernetes_validate import utils as kv

CRD_KINDS = {
    ("monitoring.coreos.com/v1", "ServiceMonitor"),
    ("monitoring.coreos.com/v1", "PrometheusRule"),
    ("keda.sh/v1alpha1", "ScaledObject"),
    ("keda.sh/v1alpha1", "TriggerAuthentication"),
}


class Report:
    def __init__(self):
        self.errors = []

    def fail(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def check(self, cond, where, msg):
        if not cond:
            self.fail(where, msg)
        return cond


def name_of(doc):
    return f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


def validate_schema(doc, versions, rep):
    for version in versions:
        try:
            kv.validate(doc, version, strict=True)
        except kv.ValidationError as e:
            path = "/".join(str(p) for p in e.absolute_path)
            rep.fail(name_of(doc), f"k8s {version} schema: at '{path}': {e.message}")
        except kv.SchemaNotFoundError as e:
            rep.fail(name_of(doc), e.message)


def pod_checks(where, pod, rep, *, worker):
    spec = pod["spec"]
    psc = spec.get("securityContext") or {}
    rep.check(psc.get("runAsNonRoot") is True, where, "pod securityContext.runAsNonRoot must be true")
    rep.check((psc.get("seccompProfile") or {}).get("type") == "RuntimeDefault", where,
              "pod seccompProfile must be RuntimeDefault")
    rep.check(spec.get("automountServiceAccountToken") is False, where,
              "automountServiceAccountToken must be false (the worker does not call the API)")
    volumes = {v["name"]: v for v in spec.get("volumes", [])}
    for c in spec["containers"]:
        cw = f"{where} container {c['name']}"
        sc = c.get("securityContext") or {}
        rep.check(sc.get("readOnlyRootFilesystem") is True, cw, "readOnlyRootFilesystem must be true")
        rep.check(sc.get("allowPrivilegeEscalation") is False, cw, "allowPrivilegeEscalation must be false")
        rep.check("ALL" in ((sc.get("capabilities") or {}).get("drop") or []), cw, "capabilities.drop must contain ALL")
        res = c.get("resources") or {}
        rep.check(res.get("requests") and res.get("limits"), cw, "resources.requests and resources.limits required")
        tmp = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/tmp"]
        rep.check(tmp and "emptyDir" in volumes.get(tmp[0]["name"], {}), cw, "/tmp must be an emptyDir mount")
        if worker:
            ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
            rep.check("http" in ports, cw, "needs a container port named http")
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                get = (c.get(probe) or {}).get("httpGet") or {}
                rep.check(get.get("path") == path and get.get("port") in ("http", ports.get("http")), cw,
                          f"{probe} must GET {path} on the http port")
    return spec


def chart_checks(docs, rep):
    by_kind = {}
    seen = set()
    for d in docs:
        key = (d["apiVersion"], d["kind"], d["metadata"]["name"])
        rep.check(key not in seen, name_of(d), "rendered twice")
        seen.add(key)
        by_kind.setdefault(d["kind"], []).append(d)

    deps = by_kind.get("Deployment", [])
    if not rep.check(len(deps) == 1, "chart", f"expected one Deployment, got {len(deps)}"):
        return
    dep = deps[0]
    where = name_of(dep)
    cms = {c["metadata"]["name"]: c for c in by_kind.get("ConfigMap", [])}
    pod = dep["spec"]["template"]
    spec = pod_checks(where, pod, rep, worker=True)
    worker = spec["containers"][0]

    # Settings come from the chart's ConfigMap.
    refs = [e["configMapRef"]["name"] for e in worker.get("envFrom", []) if "configMapRef" in e]
    cm = next((cms[r] for r in refs if r in cms), None)
    if rep.check(cm is not None, where, "envFrom must reference the chart's ConfigMap"):
        data = cm.get("data", {})
        grace_ms = int(data.get("SHUTDOWN_GRACE_MS", "0"))
        tgps = spec.get("terminationGracePeriodSeconds", 30)
        rep.check(tgps * 1000 > grace_ms, where,
                  f"terminationGracePeriodSeconds {tgps}s must exceed SHUTDOWN_GRACE_MS {grace_ms}ms")
        http = next((p["containerPort"] for p in worker.get("ports", []) if p.get("name") == "http"), None)
        rep.check(str(http) == data.get("HTTP_PORT"), where,
                  f"container port http ({http}) must equal HTTP_PORT ({data.get('HTTP_PORT')})")
        for k in ("ANTOM_PRIVATE_KEY_FILE", "ANTOM_PUBLIC_KEY_FILE"):
            mounts = [m["mountPath"].rstrip("/") + "/" for m in worker.get("volumeMounts", [])]
            rep.check(any(data.get(k, "").startswith(m) for m in mounts), where,
                      f"{k}={data.get(k)} is not under any volume mount")

    ann = pod["metadata"].get("annotations") or {}
    rep.check("checksum/config" in ann, where, "pod annotation checksum/config missing")
    chart_secret = bool(by_kind.get("Secret"))
    rep.check(("checksum/keys" in ann) == chart_secret, where,
              "pod annotation checksum/keys must be present exactly when the chart renders the keys Secret")

    # Replicas belong to the autoscaler when there is one.
    autoscaled = bool(by_kind.get("HorizontalPodAutoscaler") or by_kind.get("ScaledObject"))
    rep.check(("replicas" in dep["spec"]) != autoscaled, where,
              "spec.replicas must be set exactly when no autoscaler owns the replica count")
    rep.check(not (by_kind.get("HorizontalPodAutoscaler") and by_kind.get("ScaledObject")), "chart",
              "HPA and KEDA ScaledObject must not both target the Deployment")
    for kind in ("HorizontalPodAutoscaler", "ScaledObject"):
        for d in by_kind.get(kind, []):
            ref = d["spec"]["scaleTargetRef"]
            rep.check(ref.get("name") == dep["metadata"]["name"] and ref.get("kind", "Deployment") == "Deployment",
                      name_of(d), "scaleTargetRef must name the Deployment")

    labels = pod["metadata"]["labels"]
    job_pods = [j["spec"]["template"]["metadata"]["labels"] for j in by_kind.get("Job", [])]

    def selects(sel, lbls):
        return all(lbls.get(k) == v for k, v in sel.items())

    for kind, sel_of in (("Service", lambda d: d["spec"]["selector"]),
                         ("PodDisruptionBudget", lambda d: d["spec"]["selector"]["matchLabels"])):
        for d in by_kind.get(kind, []):
            sel = sel_of(d)
            rep.check(selects(sel, labels), name_of(d), "selector must match the worker pods")
            rep.check(not any(selects(sel, jl) for jl in job_pods), name_of(d), "selector must not match the init Job's pods")
    rep.check(selects(dep["spec"]["selector"]["matchLabels"], labels), where, "selector must match its own pod template")

    for job in by_kind.get("Job", []):
        pod_checks(name_of(job), job["spec"]["template"], rep, worker=False)
        hooks = (job["metadata"].get("annotations") or {}).get("helm.sh/hook", "")
        rep.check("pre-install" in hooks, name_of(job), "init Job must be a pre-install hook")

    # A Grafana dashboard ConfigMap (grafanaDashboard.enabled) must hold a dashboard the sidecar can load.
    for cm in by_kind.get("ConfigMap", []):
        for key, text in (cm.get("data") or {}).items():
            if not key.endswith(".json"):
                continue
            try:
                dash = json.loads(text)
            except ValueError as e:
                rep.fail(name_of(cm), f"{key} is not JSON: {e}")
                continue
            rep.check(isinstance(dash, dict) and dash.get("uid") and dash.get("panels"), name_of(cm),
                      f"{key} must be a Grafana dashboard (uid and panels)")

    svcs = by_kind.get("Service", [])
    for sm in by_kind.get("ServiceMonitor", []):
        ports = {p.get("name") for s in svcs for p in s["spec"]["ports"]}
        for ep in sm["spec"]["endpoints"]:
            rep.check(ep.get("port") in ports, name_of(sm), f"endpoint port {ep.get('port')} is not a Service port")


def worker_env(docs):
    """The settings the worker container gets from the chart's ConfigMap plus literal extraEnv."""
    dep = next((d for d in docs if d["kind"] == "Deployment"), None)
    if not dep:
        return {}
    c = dep["spec"]["template"]["spec"]["containers"][0]
    cms = {d["metadata"]["name"]: d.get("data", {}) for d in docs if d["kind"] == "ConfigMap"}
    env = {}
    for e in c.get("envFrom", []):
        env.update(cms.get((e.get("configMapRef") or {}).get("name"), {}))
    env.update({e["name"]: e["value"] for e in c.get("env", []) if "value" in e})
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--k8s-version", action="append", required=True)
    ap.add_argument("--crd-out", required=True)
    ap.add_argument("--env-out", help="write the Deployment's ConfigMap settings here (JSON)")
    ap.add_argument("rendered")
    args = ap.parse_args()

    with open(args.rendered) as f:
        docs = [d for d in yaml.safe_load_all(f) if d]
    rep = Report()
    crds = []
    for d in docs:
        if (d.get("apiVersion"), d.get("kind")) in CRD_KINDS:
            crds.append(d)
        else:
            validate_schema(d, args.k8s_version, rep)
    chart_checks(docs, rep)
    with open(args.crd_out, "w") as f:
        json.dump(crds, f)
    if args.env_out:
        with open(args.env_out, "w") as f:
            json.dump(worker_env(docs), f)

    kinds = ", ".join(sorted(name_of(d) for d in docs if d not in crds))
    if rep.errors:
        for e in rep.errors:
            print(f"  ERROR {e}")
        print(f"  {len(rep.errors)} problem(s) in {len(docs)} manifests")
        return 1
    print(f"  strict k8s schemas {', '.join(args.k8s_version)} + chart policy OK: {kinds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
