"""`make deploy-check` (deploy/check.py): the overlays pass, and a manifest that breaks any one
rule fails, naming that rule."""
from __future__ import annotations

import copy
import os
import runpy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
CHECK = REPO / "deploy" / "check.py"
BASE = REPO / "deploy" / "kubernetes" / "base"

@pytest.fixture(scope="module")
def checker() -> dict:
    """deploy/check.py's functions, loaded from its file (it is a script, not a package)."""
    return runpy.run_path(str(CHECK))


@pytest.fixture(scope="module")
def rendered(checker) -> list[dict]:
    return checker["render"](REPO / "deploy" / "kubernetes" / "overlays" / "prod")


def run_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), *args], capture_output=True, text=True, timeout=120)


def test_every_overlay_and_the_containerfile_pass():
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    for overlay in ("dev", "prod"):
        assert f"deploy/kubernetes/overlays/{overlay}: ok" in result.stdout
    assert "Containerfile: ok" in result.stdout


def test_the_rendered_objects_pass(checker, rendered):
    assert checker["check_objects"](rendered) == []


def _find(objects: list[dict], kind: str, name: str) -> dict:
    for obj in objects:
        if obj["kind"] == kind and obj["metadata"]["name"].startswith(name):
            return obj
    raise LookupError(f"{kind}/{name}")


def _container(objects, kind: str, name: str) -> dict:
    return _find(objects, kind, name)["spec"]["template"]["spec"]["containers"][0]


def _env(objects, kind: str, name: str, variable: str) -> dict:
    return next(e for e in _container(objects, kind, name)["env"] if e["name"] == variable)


def _set_env(objects, kind: str, name: str, entry: dict) -> None:
    container = _container(objects, kind, name)
    container["env"] = [entry if e["name"] == entry["name"] else e for e in container["env"]]


def _drop(objects, kind: str, name: str) -> None:
    objects.remove(_find(objects, kind, name))


# One way to break each rule: (rule the checker must name, what breaks it).
BREAKAGES = {
    "schema: an unknown field": ("schema", lambda o: _container(o, "Deployment", "user").update(livenessprobe={})),
    "services: a service without a Deployment": ("services", lambda o: _drop(o, "Deployment", "billing")),
    "replicas: one replica": ("replicas", lambda o: _find(o, "Deployment", "product")["spec"].update(replicas=1)),
    "probes: readiness on /healthz": (
        "probes", lambda o: _container(o, "Deployment", "user")["readinessProbe"]["httpGet"].update(path="/healthz")),
    "probes: liveness on a port the container lacks": (
        "probes", lambda o: _container(o, "Deployment", "user")["livenessProbe"]["httpGet"].update(port=9000)),
    "resources: no limits": ("resources", lambda o: _container(o, "Deployment", "user")["resources"].pop("limits")),
    "resources: a Job without requests": (
        "resources", lambda o: _container(o, "Job", "billing-migrate")["resources"].pop("requests")),
    "non-root: runAsNonRoot off": (
        "non-root", lambda o: _find(o, "Deployment", "billing")["spec"]["template"]["spec"]["securityContext"].update(runAsNonRoot=False)),
    "non-root: privilege escalation": (
        "non-root", lambda o: _container(o, "Deployment", "product")["securityContext"].update(allowPrivilegeEscalation=True)),
    "read-only-root: a writable root": (
        "read-only-root", lambda o: _container(o, "Deployment", "product")["securityContext"].update(readOnlyRootFilesystem=False)),
    "read-only-root: no /tmp": ("read-only-root", lambda o: _container(o, "Deployment", "user").update(
        volumeMounts=[m for m in _container(o, "Deployment", "user")["volumeMounts"] if m["mountPath"] != "/tmp"])),
    "service: none": ("service", lambda o: _drop(o, "Service", "product")),
    "pdb: none": ("pdb", lambda o: _drop(o, "PodDisruptionBudget", "user")),
    "pdb: no drain possible": ("pdb", lambda o: _find(o, "PodDisruptionBudget", "billing")["spec"].update(minAvailable=3)),
    "hpa: none": ("hpa", lambda o: _drop(o, "HorizontalPodAutoscaler", "billing")),
    "hpa: down to one": ("hpa", lambda o: _find(o, "HorizontalPodAutoscaler", "user")["spec"].update(minReplicas=1)),
    "migrations: no Job": ("migrations", lambda o: _drop(o, "Job", "user-migrate")),
    "migrations: pods migrate on start": (
        "migrations", lambda o: _container(o, "Deployment", "user").update(args=["manage", "user", "migrate"])),
    "secrets: a database URL in the manifest": ("secrets", lambda o: _set_env(
        o, "Deployment", "product", {"name": "DATABASE_URL", "value": "postgres://shop:hunter2@db/product"})),
    "secrets: a database URL from a ConfigMap": ("secrets", lambda o: _env(o, "Job", "product-migrate", "DATABASE_URL").update(
        valueFrom={"configMapKeyRef": {"name": _find(o, "ConfigMap", "shop-config")["metadata"]["name"], "key": "DATABASE_URL"}})),
    "secrets: a key in a ConfigMap": ("secrets", lambda o: _find(o, "ConfigMap", "shop-config")["data"].update(
        MS_SIGNING_KEY="-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEI...\n-----END PRIVATE KEY-----")),
    "secrets: keys not mounted from a Secret": ("secrets", lambda o: _find(o, "Deployment", "billing")["spec"]["template"]["spec"].update(
        volumes=[{"name": "tmp", "emptyDir": {}}, {"name": "signing-keys", "emptyDir": {}}])),
    "redis: no shared throttle cache": ("redis", lambda o: _container(o, "Deployment", "billing").update(
        env=[e for e in _container(o, "Deployment", "billing")["env"] if e["name"] != "CACHE_URL"])),
    "network-policy: any pod may call product": ("network-policy", lambda o: _find(o, "NetworkPolicy", "product-ingress")["spec"][
        "ingress"][0]["from"].append({"podSelector": {}})),
    "network-policy: user may be called by product": ("network-policy", lambda o: _find(o, "NetworkPolicy", "user-ingress")["spec"][
        "ingress"][0]["from"][0]["podSelector"].update(matchLabels={"app.kubernetes.io/component": "api"})),
    "network-policy: billing cannot reach user": ("network-policy", lambda o: _drop(o, "NetworkPolicy", "user-ingress")),
    "ingress: /api/ routed whole": ("ingress", lambda o: _find(o, "Ingress", "shop")["spec"]["rules"][0]["http"]["paths"].append(
        {"path": "/api", "pathType": "Prefix", "backend": {"service": {"name": "user", "port": {"name": "http"}}}})),
    "debug-off: debug on": ("debug-off", lambda o: _find(o, "ConfigMap", "shop-config")["data"].update(DJANGO_DEBUG="1")),
    "image: latest": ("image", lambda o: [
        c.update(image="registry.example.com/shop:latest") for c in
        [_container(o, k, n) for k, n in (("Deployment", "user"), ("Deployment", "product"), ("Deployment", "billing"),
                                           ("Job", "user-migrate"), ("Job", "product-migrate"), ("Job", "billing-migrate"))]]),
    "image: two images": ("image", lambda o: _container(o, "Job", "user-migrate").update(image="python:3.11")),
}


def test_every_rule_has_a_breakage(checker):
    assert {rule for rule, _ in BREAKAGES.values()} == {"schema", *checker["RULES"]}


@pytest.mark.parametrize("case", BREAKAGES)
def test_a_broken_manifest_fails_naming_its_rule(checker, rendered, case):
    rule, breakage = BREAKAGES[case]
    objects = copy.deepcopy(rendered)
    breakage(objects)
    problems = checker["check_objects"](objects)
    assert rule in {p.rule for p in problems}, problems


def test_a_broken_overlay_fails_the_command(tmp_path):
    """The command itself, on an overlay of the real base that sets one replica."""
    (tmp_path / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": [os.path.relpath(BASE, tmp_path)],  # kustomize takes no absolute path
        "replicas": [{"name": "product", "count": 1}],
    }))
    result = run_check("--overlay", str(tmp_path))
    assert result.returncode == 1, result.stdout
    assert "[replicas] Deployment/product" in result.stdout


def test_a_rendered_file_with_an_unknown_field_fails_the_command(tmp_path, rendered):
    objects = copy.deepcopy(rendered)
    _find(objects, "Service", "user")["spec"]["prots"] = []
    path = tmp_path / "rendered.yaml"
    path.write_text(yaml.safe_dump_all(objects))
    result = run_check("--rendered", str(path))
    assert result.returncode == 1
    assert "[schema] Service/user" in result.stdout


@pytest.mark.parametrize("edit, message", [
    (lambda text: text.replace("USER 10001:10001", "USER root"), "numeric non-root"),
    (lambda text: text.replace("python:3.11.7-slim-bookworm", "python:3.11"), "slim Python image"),
    (lambda text: text.replace("USER 10001:10001", "USER 10002"), "runAsUser"),
    (lambda text: text.replace("DJANGO_DEBUG=0", "DJANGO_DEBUG=1"), "DJANGO_DEBUG=0"),
])
def test_a_broken_containerfile_fails_the_command(tmp_path, edit, message):
    containerfile = tmp_path / "Containerfile"
    containerfile.write_text(edit((REPO / "Containerfile").read_text()))
    shutil.copy(REPO / ".containerignore", tmp_path / ".containerignore")
    result = run_check("--overlay", str(REPO / "deploy" / "kubernetes" / "overlays" / "prod"), "--containerfile", str(containerfile))
    assert result.returncode == 1, result.stdout
    assert "[containerfile]" in result.stdout and message in result.stdout, result.stdout


def test_without_kubectl_it_says_what_to_install(tmp_path):
    result = subprocess.run([sys.executable, str(CHECK)], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PATH": str(tmp_path)})
    assert result.returncode == 1
    assert "kubectl is not installed" in result.stderr
