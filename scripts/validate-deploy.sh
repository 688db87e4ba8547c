#!/usr/bin/env bash
# Validates deploy/k8s as it would be applied, without a cluster:
#
#   1. renders the kustomization: `kubectl kustomize` when kubectl is installed, else a small
#      renderer here that does what kustomization.yaml uses (resources, namespace, labels,
#      configMapGenerator, images) and refuses anything else;
#   2. checks every rendered object against the Kubernetes OpenAPI schemas with
#      `kubernetes-validate --strict` (PyPI, pinned by scripts/constraints/; the schemas
#      ship inside the package), for the oldest and the newest Kubernetes release we aim
#      at: unknown fields are errors, and so is a kind/apiVersion without a schema (the tool
#      itself only warns about those). A canary object with a bogus field must be refused,
#      or the run fails: a validator that stopped being strict proves nothing;
#   3. checks what a schema cannot: every Deployment has readiness and liveness probes on
#      its health endpoint (gRPC or HTTP, on a declared port), CPU and memory requests and
#      limits, runAsNonRoot (never UID 0), RuntimeDefault seccomp, a read-only root
#      filesystem with an emptyDir at /tmp, no privilege escalation, capabilities dropped
#      (ALL), a selector matching its pods, mounts of declared volumes, ConfigMaps and
#      Secrets that exist, an image built by deploy/Dockerfile from a services/ package;
#      exactly one HorizontalPodAutoscaler (autoscaling/v2, CPU utilization, minReplicas
#      >= 2) and one PodDisruptionBudget (policy/v1, not blocking every drain) each; no
#      HPA or PDB without its Deployment; every Service selects a Deployment's pods and
#      targets a port they declare; magnum.toml (the ConfigMap) parses, and its `listen`
#      ports and http://<Service>:<port> URLs match the Deployments and Services.
#
# The virtualenv (.deps/venv-kubernetes-validate) is made once and reused while the pins
# are unchanged; later runs take about a second. Exits non-zero, saying what failed.
#
# Usage: scripts/validate-deploy.sh [kustomization-dir]   (default: deploy/k8s)
# Knob: VALIDATE_DEPLOY_RENDER=kubectl|files (default: kubectl when installed, else files)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$(cd "${1:-$ROOT/deploy/k8s}" && pwd)
VENV=$ROOT/.deps/venv-kubernetes-validate
CONSTRAINTS=$ROOT/scripts/constraints/kubernetes-validate.txt
KV_VERSION=1.37.0
# 1.27: the oldest release the manifests are for (native gRPC probes are GA there);
# 1.37: the newest schemas kubernetes-validate 1.37.0 ships.
KUBE_VERSIONS=(1.27.0 1.37.0)

say() { echo "validate-deploy: $*"; }
die() { echo "validate-deploy: $*" >&2; exit 1; }

[ -f "$DIR/kustomization.yaml" ] || die "no kustomization.yaml in $DIR"
[ -f "$CONSTRAINTS" ] || die "missing $CONSTRAINTS"

# ---------------------------------------------------------------- the pinned virtualenv
STAMP="kubernetes-validate==$KV_VERSION $(sha256sum <"$CONSTRAINTS" | cut -d' ' -f1)"
venv_ok() {
    [ "$(cat "$VENV/.magnum-rs-ok" 2>/dev/null)" = "$STAMP" ] &&
        "$VENV/bin/python" -c 'import kubernetes_validate, yaml' >/dev/null 2>&1
}
if ! venv_ok; then
    if ! command -v python3 >/dev/null 2>&1 || ! python3 -c 'import venv, ensurepip' >/dev/null 2>&1; then
        command -v apt-get >/dev/null 2>&1 || die "needs python3 with venv: install it by hand"
        if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
        echo "  apt-get install python3 python3-venv" >&2
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            -o DPkg::Lock::Timeout=120 python3 python3-venv >/dev/null
    fi
    echo "  python3 -m venv $VENV; pip install kubernetes-validate==$KV_VERSION (pinned)" >&2
    rm -rf "$VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check --no-input \
        -c "$CONSTRAINTS" "kubernetes-validate==$KV_VERSION"
    echo "$STAMP" >"$VENV/.magnum-rs-ok"
    venv_ok || die "kubernetes-validate did not install into $VENV"
fi
PY=$VENV/bin/python
KV=$VENV/bin/kubernetes-validate

WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- the checks (Python)
cat >"$WORK/deploy_check.py" <<'PY'
"""render DIR > out.yaml  |  check RENDERED ROOT  (see scripts/validate-deploy.sh)."""
import os
import re
import sys

import yaml

try:
    import tomllib  # Python 3.11+; without it magnum.toml is not checked
except ImportError:
    tomllib = None

CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                  "StorageClass", "PersistentVolume", "CustomResourceDefinition"}


def fail(msg):
    sys.exit(f"validate-deploy: {msg}")


def load_all(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


def render(kdir):
    """Does what `kustomize build` does with the features kustomization.yaml uses."""
    k = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml")))
    known = {"apiVersion", "kind", "namespace", "labels", "resources", "configMapGenerator", "images"}
    extra = sorted(set(k) - known)
    if extra:
        fail(f"kustomization.yaml uses {extra}, which the fallback renderer does not do: install kubectl")
    docs = []
    for res in k.get("resources", []):
        path = os.path.join(kdir, res)
        if not os.path.isfile(path):
            fail(f"resource {res}: not a file (the fallback renderer takes files only)")
        docs += load_all(path)
    for gen in k.get("configMapGenerator", []):
        if set(gen) - {"name", "files", "literals"}:
            fail(f"configMapGenerator {gen.get('name')}: only name, files and literals are rendered here")
        data = {}
        for item in gen.get("files", []):
            key, _, path = item.rpartition("=")
            data[key or os.path.basename(path)] = open(os.path.join(kdir, path)).read()
        for item in gen.get("literals", []):
            key, _, value = item.partition("=")
            data[key] = value
        docs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": gen["name"]}, "data": data})
    for doc in docs:
        meta = doc.setdefault("metadata", {})
        if k.get("namespace") and doc.get("kind") not in CLUSTER_SCOPED:
            meta["namespace"] = k["namespace"]
        for lab in k.get("labels", []):
            if lab.get("includeSelectors") or lab.get("includeTemplates"):
                fail("labels with includeSelectors/includeTemplates: not done by the fallback renderer")
            meta.setdefault("labels", {}).update(lab.get("pairs", {}))
        pod = doc.get("spec", {}).get("template", {}).get("spec", {})
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            name = re.sub(r"(@.*|:[^/:]*)$", "", c.get("image", ""))
            for img in k.get("images", []):
                if img["name"] == name:
                    new = img.get("newName", name)
                    c["image"] = (f"{new}@{img['digest']}" if "digest" in img
                                  else f"{new}:{img['newTag']}" if "newTag" in img else new)
    yaml.safe_dump_all(docs, sys.stdout, sort_keys=False)


def check(rendered, root):
    docs = load_all(rendered)
    problems = []

    def bad(obj, msg):
        problems.append(f"{obj['kind']}/{obj['metadata']['name']}: {msg}")

    def of_kind(kind):
        return [d for d in docs if d.get("kind") == kind]

    def subset(small, big):
        return bool(small) and all(big.get(k) == v for k, v in small.items())

    configmaps = {d["metadata"]["name"]: d for d in of_kind("ConfigMap")}
    secrets = {d["metadata"]["name"]: d for d in of_kind("Secret")}
    dockerfile = open(os.path.join(root, "deploy", "Dockerfile")).read()
    m = re.search(r"^\s*([a-z0-9-]+(?:\|[a-z0-9-]+)+)\)\s*;;", dockerfile, re.M)
    buildable = set(m.group(1).split("|")) if m else set()
    if not buildable:
        problems.append("deploy/Dockerfile: no `case` list of SERVICE values found")

    def ref_ok(obj, kind, table, name, key=None, optional=False):
        if optional:
            return
        if name not in table:
            bad(obj, f"{kind} {name!r} is not in the rendered objects")
        elif key is not None:
            held = {**table[name].get("data", {}), **table[name].get("stringData", {}),
                    **table[name].get("binaryData", {})}
            if key not in held:
                bad(obj, f"{kind} {name!r} has no key {key!r}")

    deployments = of_kind("Deployment")
    hpas, pdbs = of_kind("HorizontalPodAutoscaler"), of_kind("PodDisruptionBudget")
    for dep in deployments:
        name, spec = dep["metadata"]["name"], dep["spec"]
        tpl = spec["template"]
        labels, pod = tpl.get("metadata", {}).get("labels", {}), tpl["spec"]
        if not subset(spec["selector"].get("matchLabels", {}), labels):
            bad(dep, "spec.selector.matchLabels does not select its own pod template")
        psc = pod.get("securityContext", {})
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for v in volumes.values():
            if "configMap" in v:
                ref_ok(dep, "ConfigMap", configmaps, v["configMap"]["name"],
                       optional=v["configMap"].get("optional", False))
            if "secret" in v:
                ref_ok(dep, "Secret", secrets, v["secret"]["secretName"],
                       optional=v["secret"].get("optional", False))
        if not pod.get("containers"):
            bad(dep, "no containers")
        for c in pod.get("containers", []) + pod.get("initContainers", []):
            where = f"container {c['name']}:"
            csc = c.get("securityContext", {})
            if csc.get("runAsNonRoot", psc.get("runAsNonRoot")) is not True:
                bad(dep, f"{where} runAsNonRoot is not true")
            if csc.get("runAsUser", psc.get("runAsUser")) == 0:
                bad(dep, f"{where} runAsUser is 0")
            seccomp = (csc.get("seccompProfile") or psc.get("seccompProfile") or {}).get("type")
            if seccomp != "RuntimeDefault":
                bad(dep, f"{where} seccompProfile is {seccomp!r}, not RuntimeDefault")
            if csc.get("readOnlyRootFilesystem") is not True:
                bad(dep, f"{where} readOnlyRootFilesystem is not true")
            if csc.get("allowPrivilegeEscalation") is not False:
                bad(dep, f"{where} allowPrivilegeEscalation is not false")
            if csc.get("privileged"):
                bad(dep, f"{where} privileged")
            caps = csc.get("capabilities", {})
            if "ALL" not in caps.get("drop", []):
                bad(dep, f"{where} capabilities.drop lacks ALL")
            if caps.get("add"):
                bad(dep, f"{where} adds capabilities {caps['add']}")
            res = c.get("resources", {})
            for part in ("requests", "limits"):
                for r in ("cpu", "memory"):
                    if r not in res.get(part, {}):
                        bad(dep, f"{where} no resources.{part}.{r}")
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            for path, vol in mounts.items():
                if vol not in volumes:
                    bad(dep, f"{where} mounts {vol!r} at {path}, no such volume")
            if "emptyDir" not in volumes.get(mounts.get("/tmp"), {}):
                bad(dep, f"{where} /tmp is not an emptyDir (the root filesystem is read-only)")
            for env in c.get("env", []):
                src = env.get("valueFrom", {})
                if "secretKeyRef" in src:
                    s = src["secretKeyRef"]
                    ref_ok(dep, "Secret", secrets, s["name"], s["key"], s.get("optional", False))
                if "configMapKeyRef" in src:
                    s = src["configMapKeyRef"]
                    ref_ok(dep, "ConfigMap", configmaps, s["name"], s["key"], s.get("optional", False))
            for src in c.get("envFrom", []):
                if "secretRef" in src:
                    ref_ok(dep, "Secret", secrets, src["secretRef"]["name"],
                           optional=src["secretRef"].get("optional", False))
                if "configMapRef" in src:
                    ref_ok(dep, "ConfigMap", configmaps, src["configMapRef"]["name"],
                           optional=src["configMapRef"].get("optional", False))
            if c in pod.get("initContainers", []):
                continue
            ports = c.get("ports", [])
            for probe in ("readinessProbe", "livenessProbe"):
                p = c.get(probe)
                if not p:
                    bad(dep, f"{where} no {probe}")
                    continue
                if "grpc" in p:
                    port = p["grpc"]["port"]
                elif "httpGet" in p:
                    port = p["httpGet"]["port"]
                else:
                    bad(dep, f"{where} {probe} must ask the health endpoint (grpc or httpGet)")
                    continue
                if not any(port in (q.get("name"), q["containerPort"]) for q in ports):
                    bad(dep, f"{where} {probe} port {port!r} is not a declared containerPort")
            image = re.sub(r"(@.*|:[^/:]*)$", "", c.get("image", ""))
            svc = image.rsplit("/", 1)[-1]
            cargo = os.path.join(root, "services", svc, "Cargo.toml")
            if not (os.path.isfile(cargo) and re.search(rf'^name = "{re.escape(svc)}"$',
                                                         open(cargo).read(), re.M)):
                bad(dep, f"{where} image {image!r}: no cargo package services/{svc}")
            if svc not in buildable:
                bad(dep, f"{where} image {image!r}: deploy/Dockerfile does not build SERVICE={svc}")

        mine = [h for h in hpas if h["spec"]["scaleTargetRef"].get("kind") == "Deployment"
                and h["spec"]["scaleTargetRef"]["name"] == name]
        if len(mine) != 1:
            bad(dep, f"{len(mine)} HorizontalPodAutoscalers scale it; want exactly 1")
        for h in mine:
            hs = h["spec"]
            if h["apiVersion"] != "autoscaling/v2":
                bad(h, f"apiVersion {h['apiVersion']}, want autoscaling/v2")
            if hs["scaleTargetRef"].get("apiVersion") != "apps/v1":
                bad(h, "scaleTargetRef.apiVersion is not apps/v1")
            if hs.get("minReplicas", 1) < 2:
                bad(h, "minReplicas < 2 (one pod is no redundancy)")
            if hs["maxReplicas"] < hs.get("minReplicas", 1):
                bad(h, "maxReplicas < minReplicas")
            if not any(x.get("type") == "Resource" and x["resource"]["name"] == "cpu"
                       and x["resource"]["target"].get("type") == "Utilization"
                       for x in hs.get("metrics", [])):
                bad(h, "no CPU Utilization metric")
        mine_pdb = [p for p in pdbs if subset(p["spec"].get("selector", {}).get("matchLabels", {}), labels)]
        if len(mine_pdb) != 1:
            bad(dep, f"{len(mine_pdb)} PodDisruptionBudgets select its pods; want exactly 1")
        for p in mine_pdb:
            ps = p["spec"]
            if p["apiVersion"] != "policy/v1":
                bad(p, f"apiVersion {p['apiVersion']}, want policy/v1")
            if ("minAvailable" in ps) == ("maxUnavailable" in ps):
                bad(p, "set exactly one of minAvailable and maxUnavailable")
            floor = mine[0]["spec"].get("minReplicas", 1) if mine else spec.get("replicas", 1)
            if isinstance(ps.get("minAvailable"), int) and ps["minAvailable"] >= floor:
                bad(p, f"minAvailable {ps['minAvailable']} >= {floor} replicas: no node could be drained")
            if ps.get("maxUnavailable") in (0, "0%"):
                bad(p, "maxUnavailable 0: no node could be drained")

    # magnum.toml (from the ConfigMap): parses, each service listens on its containerPort,
    # and every http://<Service>:<port> it names is a port of that Service.
    services = {d["metadata"]["name"]: d for d in of_kind("Service")}
    for cm in configmaps.values():
        for key, text in cm.get("data", {}).items():
            if tomllib is None or not key.endswith(".toml"):
                continue
            try:
                conf = tomllib.loads(text)
            except tomllib.TOMLDecodeError as e:
                bad(cm, f"{key}: {e}")
                continue
            for dep in deployments:
                section = conf.get(dep["metadata"]["name"].removesuffix("-svc"), {})
                listen = section.get("listen") if isinstance(section, dict) else None
                if listen:
                    port = int(listen.rsplit(":", 1)[1])
                    declared = [q["containerPort"] for c in dep["spec"]["template"]["spec"]["containers"]
                                for q in c.get("ports", [])]
                    if port not in declared:
                        bad(cm, f"{key}: listen = {listen!r}, but Deployment/{dep['metadata']['name']} "
                                f"declares ports {declared}")
            for url in re.findall(r'"https?://([a-z0-9-]+):(\d+)', text):
                host, port = url[0], int(url[1])
                if host in services and port not in [q["port"] for q in services[host]["spec"]["ports"]]:
                    bad(cm, f"{key}: {host}:{port} is not a port of Service/{host}")

    dep_names = {d["metadata"]["name"] for d in deployments}
    pod_labels = [d["spec"]["template"].get("metadata", {}).get("labels", {}) for d in deployments]
    for h in hpas:
        if h["spec"]["scaleTargetRef"]["name"] not in dep_names:
            bad(h, "scales no Deployment of this kustomization")
    for p in pdbs:
        if not any(subset(p["spec"].get("selector", {}).get("matchLabels", {}), lab) for lab in pod_labels):
            bad(p, "selects no Deployment's pods")
    for s in of_kind("Service"):
        targets = [d for d in deployments
                   if subset(s["spec"].get("selector", {}), d["spec"]["template"]["metadata"].get("labels", {}))]
        if not targets:
            bad(s, "selects no Deployment's pods")
        for port in s["spec"].get("ports", []):
            tp = port.get("targetPort", port["port"])
            for d in targets:
                declared = [q for c in d["spec"]["template"]["spec"]["containers"] for q in c.get("ports", [])]
                if not any(tp in (q.get("name"), q["containerPort"]) for q in declared):
                    bad(s, f"targetPort {tp!r} is not declared by Deployment/{d['metadata']['name']}")

    problems = list(dict.fromkeys(problems))
    if problems:
        print(f"validate-deploy: {len(problems)} problem(s) beyond the schemas:", file=sys.stderr)
        for p in problems:
            print(f"  {p}", file=sys.stderr)
        sys.exit(1)
    print(f"validate-deploy: {len(deployments)} Deployments ({', '.join(sorted(dep_names))}): "
          "probes, resources, hardened security contexts, references, ports in magnum.toml; "
          f"each with 1 HPA and 1 PDB ({len(hpas)} HPAs, {len(pdbs)} PDBs in all)")


if __name__ == "__main__":
    if sys.argv[1] == "render":
        render(sys.argv[2])
    else:
        check(sys.argv[2], sys.argv[3])
PY

# ---------------------------------------------------------------- 1. render
RENDERED=$WORK/rendered.yaml
mode=${VALIDATE_DEPLOY_RENDER:-}
if [ -z "$mode" ]; then
    if command -v kubectl >/dev/null 2>&1; then mode=kubectl; else mode=files; fi
fi
case "$mode" in
    kubectl)
        kubectl kustomize "$DIR" >"$RENDERED" 2>"$WORK/render.err" ||
            die "kubectl kustomize ${DIR#"$ROOT"/} failed: $(cat "$WORK/render.err")"
        how="kubectl kustomize ($(kubectl version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p'))"
        ;;
    files)
        "$PY" "$WORK/deploy_check.py" render "$DIR" >"$RENDERED"
        how="the resource files by the minimal renderer here (no kubectl)"
        ;;
    *) die "VALIDATE_DEPLOY_RENDER=$mode: want kubectl or files" ;;
esac
count=$(grep -c '^kind:' "$RENDERED" || true)
say "rendered ${DIR#"$ROOT"/} from $how: $count objects"

# ---------------------------------------------------------------- 2. schemas
kargs=()
for v in "${KUBE_VERSIONS[@]}"; do kargs+=(-k "$v"); done
run_kv() { # file: kubernetes-validate's findings (WARN, ERROR, FATAL lines); status 1 if any
    local out rc=0
    out=$("$KV" --strict --quiet "${kargs[@]}" "$1" 2>&1) || rc=$?
    printf '%s' "$out"
    [ "$rc" -eq 0 ] && [ -z "$out" ]
}
# The canary: --strict must refuse a field the schema does not have.
cat >"$WORK/canary.yaml" <<'EOF'
apiVersion: v1
kind: ConfigMap
metadata:
  name: strict-canary
data: {}
notAField: true
EOF
if run_kv "$WORK/canary.yaml" >/dev/null; then
    die "kubernetes-validate --strict accepted an unknown field (strict-canary): its checks prove nothing"
fi
if ! findings=$(run_kv "$RENDERED"); then
    echo "validate-deploy: kubernetes-validate $KV_VERSION --strict (Kubernetes ${KUBE_VERSIONS[*]}) refused:" >&2
    # WARN is the tool's word for "no schema for this kind/apiVersion": a typo or a removed API.
    printf '%s\n' "$findings" | sed "s|$RENDERED|${DIR#"$ROOT"/} (rendered)|; s/^/  /" >&2
    exit 1
fi
say "kubernetes-validate $KV_VERSION --strict: all $count valid against Kubernetes ${KUBE_VERSIONS[*]}"

# ---------------------------------------------------------------- 3. what schemas miss
"$PY" "$WORK/deploy_check.py" check "$RENDERED" "$ROOT"
say "ok"
