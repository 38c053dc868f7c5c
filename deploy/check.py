#!/usr/bin/env python
"""`make deploy-check`: what a cluster would be given, rendered and checked offline.

Every kustomize overlay under deploy/kubernetes/overlays is rendered with `kubectl kustomize`,
every object validated against Kubernetes' own schemas (kubernetes-validate, offline, strict:
an unknown field is an error) for the oldest and the newest Kubernetes we support, and the
shop's rules (RULES below: what docs/decisions.md, "Deployment", asks of every service) checked
on the rendered objects, with the Containerfile's. Exit 0 only if nothing is broken; each
problem is printed as ``<source>: [<rule>] <object>: <what>``.

    deploy/check.py                              every overlay, and the Containerfile
    deploy/check.py --overlay DIR                one kustomization (a directory)
    deploy/check.py --rendered FILE              objects already rendered (a YAML stream)
    deploy/check.py --containerfile FILE         another Containerfile
"""
from __future__ import annotations

import argparse
import functools
import json
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parent.parent
OVERLAYS = REPO / "deploy" / "kubernetes" / "overlays"
CONTAINERFILE = REPO / "Containerfile"
# The oldest Kubernetes minor still supported upstream when this was written, and the newest
# the pinned kubernetes-validate knows.
KUBERNETES_VERSIONS = ("1.30.0", "1.37.0")

SERVICES = ("user", "product", "billing")
# Reached by billing alone (and /metrics by the monitoring system): never through the Ingress.
SERVICE_ONLY_PATHS = ("/api/internal/", "/api/service-tokens/", "/api/txn-tokens/", "/metrics")
# Only these may call product's and user's pods (besides the ingress controller, for end users).
ALLOWED_CALLERS = {"user": {"billing"}, "product": {"billing"}}
SECRET_VARIABLES = ("DATABASE_URL", "DJANGO_SECRET_KEY", "MS_REPLAY_CACHE", "CACHE_URL")
MIGRATION_SECRET_VARIABLES = ("DATABASE_URL", "DJANGO_SECRET_KEY")
REDIS_VARIABLES = ("MS_REPLAY_CACHE", "CACHE_URL")
# Names a ConfigMap must not hold (its data is readable by anyone who may read the namespace's
# configuration, and lands in `kubectl describe`).
SENSITIVE_NAME = re.compile(r"(SECRET|PASSWORD|TOKEN|DATABASE_URL|PRIVATE|SIGNING_KEY$|REPLAY_CACHE|CACHE_URL)")
CREDENTIALS_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]*@")


@dataclass(frozen=True)
class Problem:
    rule: str
    subject: str
    message: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.subject}: {self.message}"


# --- The rendered objects, and what the rules ask of them ----------------------------------------


def _name(obj: dict) -> str:
    return f"{obj.get('kind')}/{obj.get('metadata', {}).get('name')}"


def _labels_match(selector: dict | None, labels: dict) -> bool:
    """Kubernetes' label selector semantics (matchLabels and matchExpressions); an empty
    selector matches everything."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values") or []
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and key in labels and labels[key] in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


class Manifest:
    """The objects one overlay renders to, with the lookups the rules need."""

    def __init__(self, objects: list[dict]) -> None:
        self.objects = [obj for obj in objects if isinstance(obj, dict)]

    def of_kind(self, kind: str) -> list[dict]:
        return [obj for obj in self.objects if obj.get("kind") == kind]

    def deployment(self, service: str) -> dict | None:
        for obj in self.of_kind("Deployment"):
            if obj["metadata"]["name"] == service:
                return obj
        return None

    def service_deployments(self) -> Iterator[tuple[str, dict]]:
        for service in SERVICES:
            deployment = self.deployment(service)
            if deployment is not None:
                yield service, deployment

    def migration_job(self, service: str) -> dict | None:
        for job in self.of_kind("Job"):
            if _migrates(job) == service:
                return job
        return None

    def workloads(self) -> Iterator[dict]:
        """Deployments and Jobs: everything that runs the shop's image."""
        yield from self.of_kind("Deployment")
        yield from self.of_kind("Job")

    def config_value(self, container: dict, variable: str) -> str | None:
        """A variable's value as the container would see it from plain values and ConfigMaps
        (None when unset, or set from a Secret)."""
        for entry in container.get("env") or []:
            if entry.get("name") != variable:
                continue
            if "value" in entry:
                return entry["value"]
            ref = (entry.get("valueFrom") or {}).get("configMapKeyRef")
            if ref:
                return self.config_map_data(ref["name"]).get(ref["key"])
            return None
        for source in container.get("envFrom") or []:
            ref = source.get("configMapRef")
            if ref:
                value = self.config_map_data(ref["name"]).get(variable)
                if value is not None:
                    return value
        return None

    def config_map_data(self, name: str) -> dict:
        for config_map in self.of_kind("ConfigMap"):
            if config_map["metadata"]["name"] == name:
                return config_map.get("data") or {}
        return {}


def _pod(workload: dict) -> dict:
    return workload.get("spec", {}).get("template", {}).get("spec", {})


def _pod_labels(workload: dict) -> dict:
    return workload.get("spec", {}).get("template", {}).get("metadata", {}).get("labels") or {}


def _containers(workload: dict) -> list[dict]:
    pod = _pod(workload)
    return [*(pod.get("initContainers") or []), *(pod.get("containers") or [])]


def _main_container(workload: dict) -> dict:
    return (_pod(workload).get("containers") or [{}])[0]


def _args(container: dict) -> list[str]:
    return [*(container.get("command") or []), *(container.get("args") or [])]


def _migrates(job: dict) -> str | None:
    """The service whose migrations a Job runs (``shop manage SERVICE migrate``), if any."""
    args = _args(_main_container(job))
    for index, word in enumerate(args[:-2]):
        if word == "manage" and args[index + 1] in SERVICES and args[index + 2] == "migrate":
            return args[index + 1]
    return None


def _container_port(container: dict, port) -> int | None:
    for entry in container.get("ports") or []:
        if port in (entry.get("name"), entry.get("containerPort")):
            return entry.get("containerPort")
    return None


# --- The rules -----------------------------------------------------------------------------------

Rule = Callable[[Manifest], Iterable[Problem]]
RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    def register(function: Rule) -> Rule:
        RULES[name] = function
        return function

    return register


@rule("services")
def every_service_is_deployed(manifest: Manifest) -> Iterator[Problem]:
    for service in SERVICES:
        if manifest.deployment(service) is None:
            yield Problem("services", f"Deployment/{service}", "missing: every service has a Deployment")


@rule("replicas")
def at_least_two_replicas(manifest: Manifest) -> Iterator[Problem]:
    for _service, deployment in manifest.service_deployments():
        replicas = deployment["spec"].get("replicas", 1)
        if replicas < 2:
            yield Problem("replicas", _name(deployment), f"{replicas} replica(s); at least 2, so one can fail")


@rule("probes")
def health_probes(manifest: Manifest) -> Iterator[Problem]:
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz"}
    for _service, deployment in manifest.service_deployments():
        container = _main_container(deployment)
        for probe_name, path in expected.items():
            probe = (container.get(probe_name) or {}).get("httpGet")
            if not probe or probe.get("path") != path:
                yield Problem("probes", _name(deployment), f"{probe_name} must GET {path}")
            elif _container_port(container, probe.get("port")) is None:
                yield Problem("probes", _name(deployment), f"{probe_name} port {probe.get('port')!r} is no container port")


@rule("resources")
def requests_and_limits(manifest: Manifest) -> Iterator[Problem]:
    for workload in manifest.workloads():
        for container in _containers(workload):
            resources = container.get("resources") or {}
            for kind in ("requests", "limits"):
                missing = [r for r in ("cpu", "memory") if r not in (resources.get(kind) or {})]
                if missing:
                    yield Problem("resources", _name(workload),
                                  f"container {container.get('name')!r} has no {kind} for {', '.join(missing)}")


@rule("non-root")
def runs_as_non_root(manifest: Manifest) -> Iterator[Problem]:
    for workload in manifest.workloads():
        pod_context = _pod(workload).get("securityContext") or {}
        for container in _containers(workload):
            context = {**pod_context, **(container.get("securityContext") or {})}
            if context.get("runAsNonRoot") is not True:
                yield Problem("non-root", _name(workload), f"container {container.get('name')!r}: runAsNonRoot is not true")
            if not context.get("runAsUser"):
                yield Problem("non-root", _name(workload), f"container {container.get('name')!r}: runAsUser must be a non-zero uid")
            if (container.get("securityContext") or {}).get("allowPrivilegeEscalation") is not False:
                yield Problem("non-root", _name(workload),
                              f"container {container.get('name')!r}: allowPrivilegeEscalation must be false")


@rule("read-only-root")
def read_only_root_filesystem(manifest: Manifest) -> Iterator[Problem]:
    for workload in manifest.workloads():
        empty_dirs = {v["name"] for v in _pod(workload).get("volumes") or [] if "emptyDir" in v}
        for container in _containers(workload):
            if (container.get("securityContext") or {}).get("readOnlyRootFilesystem") is not True:
                yield Problem("read-only-root", _name(workload),
                              f"container {container.get('name')!r}: readOnlyRootFilesystem must be true")
            # gunicorn's worker heartbeat files and Python's temporary files need somewhere to go.
            if not any(m.get("mountPath") == "/tmp" and m.get("name") in empty_dirs for m in container.get("volumeMounts") or []):
                yield Problem("read-only-root", _name(workload),
                              f"container {container.get('name')!r}: /tmp must be a writable emptyDir")


@rule("service")
def a_service_per_deployment(manifest: Manifest) -> Iterator[Problem]:
    for _service, deployment in manifest.service_deployments():
        labels, container = _pod_labels(deployment), _main_container(deployment)
        selecting = [s for s in manifest.of_kind("Service") if s["spec"].get("selector") and _labels_match(
            {"matchLabels": s["spec"]["selector"]}, labels)]
        if not selecting:
            yield Problem("service", _name(deployment), "no Service selects its pods")
        for svc in selecting:
            for port in svc["spec"].get("ports") or []:
                if _container_port(container, port.get("targetPort", port.get("port"))) is None:
                    yield Problem("service", _name(svc), f"targetPort {port.get('targetPort')!r} is no port of {_name(deployment)}")


@rule("pdb")
def a_disruption_budget_per_deployment(manifest: Manifest) -> Iterator[Problem]:
    for _service, deployment in manifest.service_deployments():
        budgets = [p for p in manifest.of_kind("PodDisruptionBudget") if _labels_match(p["spec"].get("selector"), _pod_labels(deployment))]
        if not budgets:
            yield Problem("pdb", _name(deployment), "no PodDisruptionBudget selects its pods")
        replicas = deployment["spec"].get("replicas", 1)
        for budget in budgets:
            spec = budget["spec"]
            if "minAvailable" in spec:
                if not isinstance(spec["minAvailable"], int) or not 1 <= spec["minAvailable"] < replicas:
                    yield Problem("pdb", _name(budget),
                                  f"minAvailable {spec['minAvailable']!r} must be a count from 1 to replicas - 1 ({replicas - 1}): "
                                  "one pod kept up, and a node drain still possible")
            elif not isinstance(spec.get("maxUnavailable"), int) or not 1 <= spec["maxUnavailable"] < replicas:
                yield Problem("pdb", _name(budget), "maxUnavailable must be a count from 1 to replicas - 1")


@rule("hpa")
def an_autoscaler_per_deployment(manifest: Manifest) -> Iterator[Problem]:
    for service, deployment in manifest.service_deployments():
        scalers = [h for h in manifest.of_kind("HorizontalPodAutoscaler")
                   if h["spec"]["scaleTargetRef"].get("kind") == "Deployment" and h["spec"]["scaleTargetRef"].get("name") == service]
        if not scalers:
            yield Problem("hpa", _name(deployment), "no HorizontalPodAutoscaler scales it")
        for scaler in scalers:
            low, high = scaler["spec"].get("minReplicas", 1), scaler["spec"].get("maxReplicas", 0)
            if low < 2 or high < low:
                yield Problem("hpa", _name(scaler), f"minReplicas {low} must be >= 2 and maxReplicas {high} >= minReplicas")
            if not scaler["spec"].get("metrics"):
                yield Problem("hpa", _name(scaler), "no metric to scale on")
            if not all((c.get("resources") or {}).get("requests", {}).get("cpu") for c in _containers(deployment)):
                yield Problem("hpa", _name(scaler), "CPU utilisation needs a CPU request on every container")


@rule("migrations")
def migrations_as_jobs(manifest: Manifest) -> Iterator[Problem]:
    for service, deployment in manifest.service_deployments():
        job = manifest.migration_job(service)
        if job is None:
            yield Problem("migrations", _name(deployment), f"no Job runs `shop manage {service} migrate`")
        elif _main_container(job).get("image") != _main_container(deployment).get("image"):
            yield Problem("migrations", _name(job), "runs another image than the service's pods")
        for container in _containers(deployment):
            if "migrate" in _args(container):
                yield Problem("migrations", _name(deployment), "pods must not migrate on start (replicas would race): a Job does")


def _secret_sources(workload: dict, variables: tuple[str, ...]) -> Iterator[Problem]:
    for container in _containers(workload):
        entries = {e["name"]: e for e in container.get("env") or []}
        for variable in variables:
            entry = entries.get(variable)
            if entry is None:
                yield Problem("secrets", _name(workload), f"{variable} is not set from a Secret (secretKeyRef)")
            elif "secretKeyRef" not in (entry.get("valueFrom") or {}):
                yield Problem("secrets", _name(workload), f"{variable} must come from a Secret (secretKeyRef), not a value or a ConfigMap")
        for entry in container.get("env") or []:
            if SENSITIVE_NAME.search(entry["name"]) and "value" in entry:
                yield Problem("secrets", _name(workload), f"{entry['name']} is a plain value in the manifest")


@rule("secrets")
def credentials_from_secrets(manifest: Manifest) -> Iterator[Problem]:
    for service, deployment in manifest.service_deployments():
        yield from _secret_sources(deployment, SECRET_VARIABLES)
        # Signing keys: the service's key ring, mounted from a Secret where MS_KEYS_DIR points.
        container = _main_container(deployment)
        keys_dir = manifest.config_value(container, "MS_KEYS_DIR")
        secret_volumes = {v["name"] for v in _pod(deployment).get("volumes") or [] if "secret" in v}
        mounted = any(m.get("mountPath", "").rstrip("/") == f"{keys_dir}/{service}" and m.get("name") in secret_volumes
                      for m in container.get("volumeMounts") or [])
        if not keys_dir or not mounted:
            yield Problem("secrets", _name(deployment), f"signing keys: MS_KEYS_DIR/{service} must be a mounted Secret volume")
        for variable in ("MS_SIGNING_KEY", "MS_SIGNING_KEY_FILE"):
            if manifest.config_value(container, variable) is not None:
                yield Problem("secrets", _name(deployment), f"{variable} set from a plain value or ConfigMap")
    for service in SERVICES:
        job = manifest.migration_job(service)
        if job is not None:
            yield from _secret_sources(job, MIGRATION_SECRET_VARIABLES)
    for config_map in manifest.of_kind("ConfigMap"):
        for key, value in (config_map.get("data") or {}).items():
            if SENSITIVE_NAME.search(key) or "PRIVATE KEY" in str(value) or CREDENTIALS_IN_URL.search(str(value)):
                yield Problem("secrets", _name(config_map), f"{key} looks like a credential: it belongs in a Secret")


@rule("redis")
def shared_stores_on_redis(manifest: Manifest) -> Iterator[Problem]:
    """Replicas must share the used token ids and the login counters: not each its own database
    table (the default replay store is shared too, but Redis is what we run) or its own files."""
    for _service, deployment in manifest.service_deployments():
        names = {e["name"] for e in _main_container(deployment).get("env") or []}
        for variable in REDIS_VARIABLES:
            if variable not in names:
                yield Problem("redis", _name(deployment), f"{variable} is not set: the replicas would not share it")


@rule("network-policy")
def only_billing_calls_product_and_user(manifest: Manifest) -> Iterator[Problem]:
    pods = {deployment["metadata"]["name"]: _pod_labels(deployment) for deployment in manifest.of_kind("Deployment")}
    pods.update({_name(job): _pod_labels(job) for job in manifest.of_kind("Job")})
    pods["(any other pod)"] = {}
    namespaces = {obj.get("metadata", {}).get("namespace") for obj in manifest.objects}
    for service, callers in ALLOWED_CALLERS.items():
        deployment = manifest.deployment(service)
        if deployment is None:
            continue
        labels = _pod_labels(deployment)
        policies = [p for p in manifest.of_kind("NetworkPolicy")
                    if "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"]) and _labels_match(p["spec"].get("podSelector"), labels)]
        if not policies:
            yield Problem("network-policy", _name(deployment), "no NetworkPolicy restricts who connects to its pods")
            continue
        reached_by: set[str] = set()
        for policy in policies:
            for index, allowed in enumerate(policy["spec"].get("ingress") or []):
                sources = allowed.get("from")
                if not sources:
                    yield Problem("network-policy", _name(policy), f"ingress[{index}] admits every source")
                    continue
                for peer in sources:
                    if "ipBlock" in peer:
                        yield Problem("network-policy", _name(policy), f"ingress[{index}] admits an ipBlock")
                    elif "namespaceSelector" in peer:
                        selector = peer["namespaceSelector"] or {}
                        named = (selector.get("matchLabels") or {}).get("kubernetes.io/metadata.name")
                        if not named or named in namespaces:
                            yield Problem("network-policy", _name(policy),
                                          f"ingress[{index}] admits namespaces other than the ingress controller's: {selector}")
                    else:
                        admitted = {name for name, pod_labels in pods.items() if _labels_match(peer.get("podSelector"), pod_labels)}
                        reached_by |= admitted
                        strangers = admitted - callers
                        if strangers:
                            yield Problem("network-policy", _name(policy),
                                          f"ingress[{index}] admits {sorted(strangers)}; only {sorted(callers)} may call {service}")
        if not callers <= reached_by:
            yield Problem("network-policy", _name(deployment),
                          f"{sorted(callers - reached_by)} cannot reach its pods: no NetworkPolicy admits them")


def _prefix_covers(prefix: str, path: str) -> bool:
    """Ingress "Prefix" matching: by whole path elements."""
    prefix = prefix.rstrip("/")
    return prefix == "" or path.rstrip("/") == prefix or path.startswith(prefix + "/")


@rule("ingress")
def no_service_only_path_is_public(manifest: Manifest) -> Iterator[Problem]:
    for ingress in manifest.of_kind("Ingress"):
        if ingress["spec"].get("defaultBackend"):
            yield Problem("ingress", _name(ingress), "a defaultBackend routes every path")
        for rule_ in ingress["spec"].get("rules") or []:
            for entry in (rule_.get("http") or {}).get("paths") or []:
                path, kind = entry.get("path", "/"), entry.get("pathType")
                for private in SERVICE_ONLY_PATHS:
                    covered = path.rstrip("/") == private.rstrip("/") if kind == "Exact" else _prefix_covers(path, private)
                    if covered:
                        yield Problem("ingress", _name(ingress),
                                      f"{rule_.get('host')} {kind} {path} routes {private}, which only billing may call")


@rule("debug-off")
def debug_is_off(manifest: Manifest) -> Iterator[Problem]:
    for _service, deployment in manifest.service_deployments():
        value = manifest.config_value(_main_container(deployment), "DJANGO_DEBUG")
        if value is None or value.strip().lower() not in {"0", "false", "no", "off"}:
            yield Problem("debug-off", _name(deployment), f"DJANGO_DEBUG is {value!r} (unset means on): it must be 0")


@rule("image")
def one_released_image(manifest: Manifest) -> Iterator[Problem]:
    images = {c.get("image") for w in manifest.workloads() for c in _containers(w)}
    if len(images) > 1:
        yield Problem("image", "workloads", f"one image for every service and Job, found {sorted(map(str, images))}")
    for image in images:
        reference = str(image)
        tag = reference.rsplit("/", 1)[-1].partition(":")[2]
        if "@sha256:" not in reference and (not tag or tag == "latest"):
            yield Problem("image", reference, "pin a tag (not latest) or a digest")


# --- Schemas -------------------------------------------------------------------------------------


def schema_problems(manifest: Manifest) -> Iterator[Problem]:
    for obj in manifest.objects:
        for version in KUBERNETES_VERSIONS:
            error = _schema_error(json.dumps(obj, sort_keys=True), version)
            if error:
                yield Problem("schema", _name(obj), f"Kubernetes {version}: {error}")


@functools.lru_cache(maxsize=1024)
def _schema_error(document: str, version: str) -> str | None:
    """What Kubernetes' schema says of one object (kubernetes-validate reads its schema files
    on every call: an unchanged object is not validated twice)."""
    import kubernetes_validate

    try:
        kubernetes_validate.validate(json.loads(document), version, strict=True)
    except kubernetes_validate.ValidationError as error:
        return f"{'.'.join(str(p) for p in error.path)}: {error.message}"
    except (kubernetes_validate.SchemaNotFoundError, KeyError) as error:
        return f"no schema: {getattr(error, 'message', error)}"
    return None


def check_objects(objects: list[dict]) -> list[Problem]:
    manifest = Manifest(objects)
    problems = list(schema_problems(manifest))
    for function in RULES.values():
        problems.extend(function(manifest))
    return problems


# --- The Containerfile ---------------------------------------------------------------------------


def check_containerfile(path: Path, manifests: Iterable[Manifest] = ()) -> list[Problem]:
    problems: list[Problem] = []
    text = path.read_text()
    instructions = [line.strip() for line in re.sub(r"\\\n", " ", text).splitlines() if line.strip() and not line.lstrip().startswith("#")]
    arguments = dict(re.findall(r"^ARG\s+(\w+)=(\S+)", "\n".join(instructions), re.M))

    def problem(message: str) -> None:
        problems.append(Problem("containerfile", path.name, message))

    bases = [re.sub(r"\$\{?(\w+)\}?", lambda m: arguments.get(m[1], m[0]), line.split()[1])
             for line in instructions if line.upper().startswith("FROM ")]
    if not bases:
        problem("no FROM")
    for base in bases:
        if not re.fullmatch(r"(docker\.io/)?(library/)?python:3\.\d+\.\d+-slim(-\w+)?(@sha256:[0-9a-f]{64})?", base):
            problem(f"base {base!r}: a slim Python image pinned to its patch version (python:3.X.Y-slim...)")
    users = [line.split()[1] for line in instructions if line.upper().startswith("USER ")]
    uid = users[-1].split(":")[0] if users else None
    if uid is None or not uid.isdigit() or uid == "0":
        problem(f"the last USER is {uid!r}: a numeric non-root uid (runAsNonRoot can only check a number)")
    for manifest in manifests:
        for workload in manifest.workloads():
            run_as = (_pod(workload).get("securityContext") or {}).get("runAsUser")
            if uid and uid.isdigit() and run_as is not None and str(run_as) != uid:
                problem(f"USER {uid} is not the pods' runAsUser {run_as} ({_name(workload)})")
    if not re.search(r"^ENV\b.*\bDJANGO_DEBUG=(0|false|no|off)\b", "\n".join(instructions), re.M | re.I):
        problem("the image must set ENV DJANGO_DEBUG=0: it serves on every interface")
    if not any("pip install" in line and "requirements" in line for line in instructions):
        problem("the image does not install the pinned requirements (pip install -r requirements.txt)")
    if not any(line.upper().startswith("ENTRYPOINT") and "deploy/container/shop" in line for line in instructions):
        problem("ENTRYPOINT must be deploy/container/shop: the service is chosen by the command")
    for line in (REPO / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].strip()
        if requirement and not requirement.startswith(("-e ", "-r ", "./")) and "==" not in requirement:
            problem(f"requirements.txt: {requirement!r} is not pinned (==)")
    ignore = path.parent / ".containerignore"
    ignored = set(ignore.read_text().split()) if ignore.exists() else set()
    for private in (".keys", ".data", ".venv", ".git"):
        if private not in ignored and f"{private}/" not in ignored:
            problem(f".containerignore must leave out {private} (keys and local data never go in an image)")
    return problems


# --- Rendering -----------------------------------------------------------------------------------


def render(kustomization: Path) -> list[dict]:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        raise SystemExit("deploy-check: kubectl is not installed; it renders the kustomize overlays "
                         "(`kubectl kustomize`). Install kubectl, then run `make deploy-check` again.")
    result = subprocess.run([kubectl, "kustomize", str(kustomization)], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"deploy-check: kubectl kustomize {kustomization} failed:\n{result.stderr}")
    return list(yaml.safe_load_all(result.stdout))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--overlay", action="append", type=Path, default=[], help="a kustomization directory")
    parser.add_argument("--rendered", action="append", type=Path, default=[], help="a rendered YAML stream")
    parser.add_argument("--containerfile", type=Path, default=None)
    args = parser.parse_args(argv)

    sources: list[tuple[str, list[dict]]] = []
    overlays = args.overlay or ([] if args.rendered or args.containerfile else sorted(p for p in OVERLAYS.iterdir() if p.is_dir()))
    for overlay in overlays:
        sources.append((str(overlay.relative_to(REPO) if overlay.is_relative_to(REPO) else overlay), render(overlay)))
    for rendered in args.rendered:
        sources.append((str(rendered), [obj for obj in yaml.safe_load_all(rendered.read_text()) if obj]))

    failures = 0
    for source, objects in sources:
        problems = check_objects(objects)
        failures += len(problems)
        for problem in problems:
            print(f"{source}: {problem}")
        if not problems:
            kinds = sorted({obj["kind"] for obj in objects})
            print(f"{source}: ok, {len(objects)} objects ({', '.join(kinds)}), Kubernetes {' and '.join(KUBERNETES_VERSIONS)} schemas, "
                  f"{len(RULES)} rules")
    containerfile = args.containerfile or (CONTAINERFILE if not (args.overlay or args.rendered) else None)
    if containerfile is not None:
        problems = check_containerfile(containerfile, [Manifest(objects) for _, objects in sources])
        failures += len(problems)
        for problem in problems:
            print(f"{containerfile.name}: {problem}")
        if not problems:
            print(f"{containerfile.name}: ok")
    if failures:
        print(f"deploy-check: {failures} problem(s)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
