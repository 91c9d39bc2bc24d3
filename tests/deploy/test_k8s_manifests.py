"""The Kubernetes manifests of deploy/k8s, built as an operator builds them and checked.

Each overlay is built with ``kubectl kustomize`` — Debian's kubernetes-client (kubectl 1.20, kustomize
v2.0.3), which ``make k8s-tools`` unpacks under var/tools (``.ci/run`` does it on a fresh machine; CI fails
without it, elsewhere the tests are skipped with that hint). Every object of a build is then validated:
the built-in kinds against the Kubernetes JSON schemas of ``kubernetes-validate`` (strict: an unknown
field fails), the CloudNativePG kinds against the CRDs vendored under deploy/schemas/k8s (closed the same
way). The rest are the platform's rules (ARCHITECTURE.md, issue 17), each a test:

- every Deployment and Job: probes (the services' ``/readyz`` and ``/healthz``), requests and limits,
  non-root, read-only root file system, no privilege escalation, every capability dropped;
- every service: its Deployment, Service, HorizontalPodAutoscaler, PodDisruptionBudget, migration Job,
  CloudNativePG Cluster with a ScheduledBackup, and settings that parse (production, no migration at
  start);
- the network: who reaches whom, worked out from the NetworkPolicies (only the gateway reaches the
  services, only a service reaches its database, the indicators read the others' feeds through the
  gateway);
- every Secret and ConfigMap a pod names exists in the build or is operator-provided and documented.
"""

from __future__ import annotations

import base64
import importlib
import json
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)

from libs.common.settings import ServiceSettings
from services.contracts.settings import ContractsSettings
from services.gateway.settings import GatewaySettings
from services.homecare.settings import HomecareSettings
from services.indicators.settings import IndicatorsSettings
from services.registry.settings import RegistrySettings
from services.residents.settings import ResidentsSettings

REPO: Final = Path(__file__).resolve().parents[2]
K8S: Final = REPO / "deploy" / "k8s"
OVERLAYS: Final = ("production", "staging")
CNPG_SCHEMAS: Final = REPO / "deploy" / "schemas" / "k8s" / "cloudnative-pg-1.30.0"
#: the Kubernetes version whose schemas the built-in kinds must meet (CloudNativePG 1.30 supports it)
KUBERNETES_VERSION: Final = "1.31"
#: where ``make k8s-tools`` unpacks Debian's kubernetes-client; KUSTOMIZE_KUBECTL names another kubectl
DEBIAN_KUBECTL: Final = REPO / "var" / "tools" / "kubernetes-client" / "usr" / "bin" / "kubectl"

SETTINGS: Final[dict[str, type[ServiceSettings]]] = {
    "gateway": GatewaySettings,
    "registry": RegistrySettings,
    "contracts": ContractsSettings,
    "homecare": HomecareSettings,
    "indicators": IndicatorsSettings,
    "residents": ResidentsSettings,
}
SERVICES: Final = tuple(SETTINGS)
#: the services that ask the gateway for service tokens (their settings say so)
CALLERS: Final = tuple(name for name, kind in SETTINGS.items() if kind.calls_other_services)
#: the Secrets the operator creates before the first install (deploy/k8s/README.md lists each one);
#: CloudNativePG makes ``<cluster>-app`` itself
OPERATOR_SECRETS: Final = frozenset(
    {"gateway-signing-key", "service-clients", "backup-object-store", "yiyang-tls"}
    | {f"{name}-personal-data" for name in SERVICES}
)
#: namespaces outside the platform's that its policies name
INGRESS_NAMESPACE: Final = "ingress-nginx"
MONITORING_NAMESPACE: Final = "monitoring"
OPERATOR_NAMESPACE: Final = "cnpg-system"

Obj = dict[str, Any]
#: jsonschema (a dependency of kubernetes-validate) has no type stubs among the dev dependencies
jsonschema: Any = importlib.import_module("jsonschema")


# ---------------------------------------------------------------------------------------------- builds


def _kubectl() -> Path | None:
    named = os.environ.get("KUSTOMIZE_KUBECTL")
    if named:
        return Path(named)
    return DEBIAN_KUBECTL if DEBIAN_KUBECTL.is_file() else None


@cache
def _build(overlay: str) -> tuple[Obj, ...]:
    kubectl = _kubectl()
    if kubectl is None:
        message = (
            f"kubectl for kustomize not found at {DEBIAN_KUBECTL.relative_to(REPO)}: run `make k8s-tools`"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    result = subprocess.run(
        [str(kubectl), "kustomize", str(K8S / "overlays" / overlay)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"kustomize build of {overlay} failed:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


@pytest.fixture(params=OVERLAYS)
def build(request: pytest.FixtureRequest) -> tuple[Obj, ...]:
    overlay: str = request.param
    return _build(overlay)


def _of_kind(objects: tuple[Obj, ...], kind: str) -> dict[str, Obj]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def _unhashed(name: str) -> str:
    """A generated ConfigMap's name without kustomize's hash suffix."""
    return re.sub(r"-[a-z0-9]{10}$", "", name)


def _workloads(objects: tuple[Obj, ...]) -> Iterator[tuple[str, Obj]]:
    """Each Deployment and Job with its pod spec."""
    for obj in objects:
        if obj["kind"] in ("Deployment", "Job"):
            yield f"{obj['kind']} {obj['metadata']['name']}", obj["spec"]["template"]["spec"]


def _env(container: Obj) -> dict[str, Obj]:
    return {item["name"]: item for item in container.get("env", [])}


def _config(objects: tuple[Obj, ...], container: Obj) -> dict[str, str]:
    """The container's plain settings: its envFrom ConfigMaps, then its literal env values."""
    maps = _of_kind(objects, "ConfigMap")
    values: dict[str, str] = {}
    for source in container.get("envFrom", []):
        values.update(maps[source["configMapRef"]["name"]]["data"])
    values.update({name: item["value"] for name, item in _env(container).items() if "value" in item})
    return values


# --------------------------------------------------------------------------------------------- schemas


def _closed(schema: Any) -> Any:
    """A CRD schema in which an object with declared properties takes no other field (the API server
    would silently prune one), and ``nullable`` is JSON Schema's null type."""
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.pop("nullable", False) and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


@cache
def _crd_validators() -> dict[tuple[str, str], Any]:
    validators: dict[tuple[str, str], Any] = {}
    for path in sorted(CNPG_SCHEMAS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version["served"]:
                schema = _closed(version["schema"]["openAPIV3Schema"])
                validators[(f"{group}/{version['name']}", kind)] = jsonschema.Draft7Validator(schema)
    return validators


def test_every_object_meets_its_schema(build: tuple[Obj, ...]) -> None:
    problems: list[str] = []
    for obj in build:
        name = f"{obj['kind']} {obj['metadata']['name']}"
        crd = _crd_validators().get((obj["apiVersion"], obj["kind"]))
        if crd is not None:
            problems += [
                f"{name}: {'.'.join(map(str, error.path))}: {error.message}" for error in crd.iter_errors(obj)
            ]
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            problems.append(f"{name}: no schema for {obj['apiVersion']} {obj['kind']}")
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{name}: {'.'.join(map(str, error.path))}: {error.message}")
    assert problems == []


def test_the_crd_check_refuses_a_misspelt_field() -> None:
    """The vendored CRDs are applied closed: a typo in a Cluster is an error, not a pruned field."""
    cluster = {
        "apiVersion": "postgresql.cnpg.io/v1",
        "kind": "Cluster",
        "metadata": {"name": "x"},
        "spec": {"instances": 1, "storage": {"size": "1Gi"}, "bootstrap": {"initdb": {"databse": "x"}}},
    }
    errors = list(_crd_validators()[("postgresql.cnpg.io/v1", "Cluster")].iter_errors(cluster))
    assert [list(error.path) for error in errors] == [["spec", "bootstrap", "initdb"]]


def test_both_kustomize_builds_make_the_same_kinds() -> None:
    """Production and staging hold the same kinds and names; staging adds only the Secrets it generates."""
    production, staging = _build("production"), _build("staging")
    names = {
        (obj["kind"], _unhashed(obj["metadata"]["name"])) for obj in production if obj["kind"] != "Namespace"
    }
    staged = {
        (obj["kind"], _unhashed(obj["metadata"]["name"])) for obj in staging if obj["kind"] != "Namespace"
    }
    assert staged - names == {("Secret", name) for name in OPERATOR_SECRETS - {"yiyang-tls"}}
    assert names - staged == set()
    assert {obj["metadata"].get("namespace") for obj in production if obj["kind"] != "Namespace"} == {
        "yiyang"
    }
    assert {obj["metadata"].get("namespace") for obj in staging if obj["kind"] != "Namespace"} == {
        "yiyang-staging"
    }


# ---------------------------------------------------------------------------------------- workloads


def test_every_container_is_probed_limited_and_unprivileged(build: tuple[Obj, ...]) -> None:
    problems: list[str] = []
    for name, pod in _workloads(build):
        security = pod.get("securityContext", {})
        if security.get("runAsNonRoot") is not True or not security.get("runAsUser"):
            problems.append(f"{name}: not runAsNonRoot with a numeric user")
        if security.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: no RuntimeDefault seccomp profile")
        if pod.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: mounts a service-account token")
        for container in pod["containers"] + pod.get("initContainers", []):
            where = f"{name} container {container['name']}"
            context = container.get("securityContext", {})
            if context.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: root file system not read-only")
            if context.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: privilege escalation allowed")
            if context.get("capabilities", {}).get("drop") != ["ALL"]:
                problems.append(f"{where}: capabilities not all dropped")
            resources = container.get("resources", {})
            for bound in ("requests", "limits"):
                if set(resources.get(bound, {})) != {"cpu", "memory"}:
                    problems.append(f"{where}: {bound} lack cpu or memory")
            if name.startswith("Deployment"):
                for probe in ("readinessProbe", "livenessProbe"):
                    if "httpGet" not in container.get(probe, {}):
                        problems.append(f"{where}: no HTTP {probe}")
    assert problems == []


def test_the_services_are_probed_on_readyz_and_healthz(build: tuple[Obj, ...]) -> None:
    deployments = _of_kind(build, "Deployment")
    for service in SERVICES:
        (container,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        port = container["ports"][0]["name"]
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": port}
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": port}
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": port}


def _dockerfile_targets() -> dict[str, dict[str, str]]:
    """Each build target of the Dockerfile with the ENV values it sets."""
    targets: dict[str, dict[str, str]] = {}
    current: dict[str, str] | None = None
    text = (REPO / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    for line in text.splitlines():
        start = re.match(r"FROM\s+\S+\s+AS\s+(\S+)", line, re.IGNORECASE)
        if start:
            current = targets.setdefault(start.group(1), {})
        elif current is not None and line.startswith("ENV "):
            current.update(re.findall(r"(\w+)=(\S+)", line))
    return targets


def test_images_are_the_dockerfiles_targets_with_the_overlays_tag(build: tuple[Obj, ...]) -> None:
    """``yiyang/<target>:<tag>``: a target of the Dockerfile, the release's tag (never latest), the port
    the target serves on; a migration Job runs its service's image."""
    targets = _dockerfile_targets()
    deployments, jobs = _of_kind(build, "Deployment"), _of_kind(build, "Job")
    tags = set()
    for name, deployment in deployments.items():
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        image, tag = container["image"].rsplit(":", 1)
        tags.add(tag)
        assert image == f"yiyang/{name}"
        assert name in targets
        if name in SERVICES:
            assert targets[name]["SERVICE"] == name
            assert container["ports"][0]["containerPort"] == int(targets[name]["PORT"])
            (migrate,) = jobs[f"{name}-migrate"]["spec"]["template"]["spec"]["containers"]
            assert migrate["image"] == container["image"]
    assert len(tags) == 1
    assert tags != {"latest"}


def test_services_start_with_the_images_entrypoint_and_migrate_only_as_a_job(
    build: tuple[Obj, ...],
) -> None:
    """The image's entrypoint serves (``serve``) or migrates (``migrate``, the Job, which must finish
    before the pods roll), and the services' settings say production without migration at start."""
    deployments, jobs = _of_kind(build, "Deployment"), _of_kind(build, "Job")
    for service in SERVICES:
        (container,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        assert "command" not in container
        assert container["args"] == ["serve"]
        job = jobs[f"{service}-migrate"]
        (migrate,) = job["spec"]["template"]["spec"]["containers"]
        assert "command" not in migrate
        assert migrate["args"] == ["migrate"]
        assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"
        prefix = service.upper() + "_"
        for values in (_config(build, container), _config(build, migrate)):
            assert values[prefix + "ENVIRONMENT"] == "production"
            assert values[prefix + "MIGRATE_ON_START"] == "false"
        # the Job migrates the database the service uses (the same URL from the same Secret's keys)
        urls = {
            _pod_environment(build, each, lambda name, key: f"{name}.{key}")[prefix + "DATABASE_URL"]
            for each in (container, migrate)
        }
        assert urls == {
            f"postgresql+asyncpg://{service}-db-app.username:{service}-db-app.password"
            f"@{service}-db-rw:5432/{service}?ssl=require"
        }


def _expand(value: str, env: Mapping[str, str]) -> str:
    """Kubernetes' $(VAR) expansion of an env value."""
    return re.sub(r"\$\((\w+)\)", lambda match: env.get(match.group(1), match.group(0)), value)


def _pod_environment(
    objects: tuple[Obj, ...], container: Obj, secret: Callable[[str, str], str]
) -> dict[str, str]:
    """The container's environment as the kubelet makes it: its envFrom ConfigMaps, then its env in order
    ($(VAR) expanded from what is defined before), a Secret's key given by ``secret(name, key)`` (an
    optional key is left unset)."""
    maps = _of_kind(objects, "ConfigMap")
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(maps[source["configMapRef"]["name"]]["data"])
    for item in container.get("env", []):
        if "value" in item:
            env[item["name"]] = _expand(item["value"], env)
        else:
            ref = item["valueFrom"]["secretKeyRef"]
            if not ref.get("optional"):
                env[item["name"]] = secret(ref["name"], ref["key"])
    return env


def _settings(settings_type: type[ServiceSettings], env: Mapping[str, str]) -> ServiceSettings:
    """The settings a service reads from ``env`` (its prefix's variables; JSON for lists and objects, as
    pydantic-settings parses them), nothing from this process's environment."""
    prefix = str(settings_type.model_config.get("env_prefix") or "")
    values = {name[len(prefix) :].lower(): value for name, value in env.items() if name.startswith(prefix)}
    return settings_type.model_validate(
        {name: json.loads(value) if value[:1] in "[{" else value for name, value in values.items()}
    )


def test_every_setting_the_manifests_give_is_one_the_service_reads(build: tuple[Obj, ...]) -> None:
    """Every ``<PREFIX>_*`` variable of a service's pods names a field of its settings class, and the
    values parse into the settings production means: no migration at start, the database behind
    CloudNativePG's read-write service with TLS, the other services behind their Services."""
    deployments, services = _of_kind(build, "Deployment"), _of_kind(build, "Service")
    stand_in = {"username": "app", "password": "pw", "keys": "{}"}
    for service, settings_type in SETTINGS.items():
        (container,) = deployments[service]["spec"]["template"]["spec"]["containers"]
        env = _pod_environment(build, container, lambda name, key: stand_in.get(key, "x"))
        prefix = service.upper() + "_"
        fields = {prefix + field.upper() for field in settings_type.model_fields}
        given = {name for name in (*env, *_env(container)) if name.startswith(prefix)}
        assert given - fields == set(), service
        settings = _settings(settings_type, env)
        assert settings.environment == "production"
        assert settings.migrate_on_start is False
        assert settings.cors_origins == []
        assert (
            settings.database_url == f"postgresql+asyncpg://app:pw@{service}-db-rw:5432/{service}?ssl=require"
        )
        if isinstance(settings, GatewaySettings):
            for upstream, url in settings.upstream_urls().items():
                assert url == f"http://{upstream}:{services[upstream]['spec']['ports'][0]['port']}"
            assert settings.service_clients == dict.fromkeys(CALLERS, "x")
            assert settings.trusted_proxy_count == 1
        else:
            assert settings.gateway_url == f"http://gateway:{services_port(build, 'gateway')}"


def test_the_manifests_give_each_service_all_that_production_requires(
    build: tuple[Obj, ...], tmp_path: Path
) -> None:
    """With real-looking values in the operator's Secrets, every service's production check passes on
    the environment its pod gets: no required secret is left out of the manifests, the service clients
    the gateway knows are the callers' own secrets, and the signing-key file is where the Secret is
    mounted."""
    values: dict[tuple[str, str], str] = {}

    def secret(name: str, key: str) -> str:
        if (name, key) not in values:
            if key == "keys":
                values[(name, key)] = json.dumps(
                    {"k2026a": base64.urlsafe_b64encode(os.urandom(32)).decode()}
                )
            elif key == "primary-key-id":
                values[(name, key)] = "k2026a"
            else:
                values[(name, key)] = base64.urlsafe_b64encode(os.urandom(30)).decode()
        return values[(name, key)]

    deployments = _of_kind(build, "Deployment")
    for service, settings_type in SETTINGS.items():
        pod = deployments[service]["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        env = _pod_environment(build, container, secret)
        if service == "gateway":
            (mount,) = (m for m in container["volumeMounts"] if m["name"] == "signing")
            (volume,) = (v for v in pod["volumes"] if v["name"] == "signing")
            (item,) = volume["secret"]["items"]
            assert volume["secret"]["secretName"] == "gateway-signing-key"
            assert item["key"] == "signing-key.pem"
            assert env["GATEWAY_SIGNING_KEY_FILE"] == f"{mount['mountPath']}/{item['path']}"
            pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
                Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()
            )
            key_file = tmp_path / "signing-key.pem"
            key_file.write_bytes(pem)
            env["GATEWAY_SIGNING_KEY_FILE"] = str(key_file)
        settings = _settings(settings_type, env)
        assert settings.production_checks() == [], service
        if isinstance(settings, GatewaySettings):
            assert settings.service_clients == {
                caller: values[("service-clients", caller)] for caller in CALLERS
            }
        elif service in CALLERS:
            assert settings.service_client_secret == values[("service-clients", service)]


def services_port(objects: tuple[Obj, ...], name: str) -> int:
    port: int = _of_kind(objects, "Service")[name]["spec"]["ports"][0]["port"]
    return port


def test_each_service_has_its_service_autoscaler_and_disruption_budget(build: tuple[Obj, ...]) -> None:
    deployments = _of_kind(build, "Deployment")
    services, hpas, pdbs = (
        _of_kind(build, kind) for kind in ("Service", "HorizontalPodAutoscaler", "PodDisruptionBudget")
    )
    for name, deployment in deployments.items():
        pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
        selector = deployment["spec"]["selector"]["matchLabels"]
        assert selector.items() <= pod_labels.items()
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        port = container["ports"][0]
        assert services[name]["spec"]["selector"] == selector
        assert services[name]["spec"]["ports"][0]["targetPort"] in (port["name"], port["containerPort"])
        hpa = hpas[name]["spec"]
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 1 <= hpa["minReplicas"] < hpa["maxReplicas"]
        assert pdbs[name]["spec"]["selector"]["matchLabels"] == selector


def test_the_autoscalers_own_the_replica_counts_and_prometheus_finds_the_metrics(
    build: tuple[Obj, ...],
) -> None:
    """No Deployment states replicas (an apply would reset what its HorizontalPodAutoscaler chose); each
    service's pods are annotated for scraping at the path the services serve their metrics on."""
    from libs.common.metrics import router as metrics_router

    (metrics_path,) = {getattr(route, "path", "") for route in metrics_router.routes}
    for name, deployment in _of_kind(build, "Deployment").items():
        assert "replicas" not in deployment["spec"], name
        if name in SERVICES:
            template = deployment["spec"]["template"]
            (container,) = template["spec"]["containers"]
            assert template["metadata"]["annotations"] == {
                "prometheus.io/scrape": "true",
                "prometheus.io/port": str(container["ports"][0]["containerPort"]),
                "prometheus.io/path": metrics_path,
            }


# ------------------------------------------------------------------------------------------- databases


def test_each_service_has_a_cloudnativepg_cluster_with_scheduled_backups(build: tuple[Obj, ...]) -> None:
    clusters, backups = _of_kind(build, "Cluster"), _of_kind(build, "ScheduledBackup")
    assert set(clusters) == {f"{service}-db" for service in SERVICES}
    scheduled = {backup["spec"]["cluster"]["name"]: backup["spec"] for backup in backups.values()}
    for service in SERVICES:
        cluster = clusters[f"{service}-db"]["spec"]
        assert cluster["bootstrap"]["initdb"] == cluster["bootstrap"]["initdb"] | {
            "database": service,
            "owner": service,
        }
        store = cluster["backup"]["barmanObjectStore"]
        assert store["destinationPath"].startswith("s3://")
        assert store["destinationPath"].endswith(f"/{service}")
        assert store["endpointURL"].startswith("https://")
        credentials = store["s3Credentials"]
        assert {ref["name"] for ref in credentials.values()} == {"backup-object-store"}
        assert cluster["enableSuperuserAccess"] is False
        assert scheduled[f"{service}-db"]["method"] == "barmanObjectStore"
    paths = [
        cluster["spec"]["backup"]["barmanObjectStore"]["destinationPath"] for cluster in clusters.values()
    ]
    assert len(set(paths)) == len(paths)


def test_production_databases_have_replicas_on_separate_nodes() -> None:
    for cluster in _of_kind(_build("production"), "Cluster").values():
        assert cluster["spec"]["instances"] >= 3
        assert cluster["spec"]["affinity"]["podAntiAffinityType"] == "required"


# ----------------------------------------------------------------------------------- secrets and maps


def _references(pod: Obj) -> Iterator[tuple[str, str, str | None, bool]]:
    """(kind, name, key, optional) of every Secret and ConfigMap a pod spec names."""
    for container in pod["containers"] + pod.get("initContainers", []):
        for item in container.get("env", []):
            source = item.get("valueFrom", {})
            for kind, ref in (("Secret", "secretKeyRef"), ("ConfigMap", "configMapKeyRef")):
                if ref in source:
                    yield kind, source[ref]["name"], source[ref]["key"], bool(source[ref].get("optional"))
        for item in container.get("envFrom", []):
            if "secretRef" in item:
                yield "Secret", item["secretRef"]["name"], None, bool(item["secretRef"].get("optional"))
            if "configMapRef" in item:
                yield (
                    "ConfigMap",
                    item["configMapRef"]["name"],
                    None,
                    bool(item["configMapRef"].get("optional")),
                )
    for volume in pod.get("volumes", []):
        if "secret" in volume:
            for item in volume["secret"].get("items", [{"key": None}]):
                yield "Secret", volume["secret"]["secretName"], item["key"], False
        if "configMap" in volume:
            for item in volume["configMap"].get("items", [{"key": None}]):
                yield "ConfigMap", volume["configMap"]["name"], item["key"], False


def _operator_secret_keys() -> dict[str, set[str]]:
    """The keys each operator-provided Secret has, as deploy/k8s/README.md documents them."""
    readme = (K8S / "README.md").read_text(encoding="utf-8")
    keys: dict[str, set[str]] = {}
    for name, listed in re.findall(r"^\| `([a-z0-9<>-]+)` \| ([^|]+) \|", readme, re.MULTILINE):
        keys[name] = set(re.findall(r"`([A-Za-z0-9._-]+)`", listed))
    return keys


def test_every_secret_and_config_map_a_pod_names_exists_or_is_operator_provided(
    build: tuple[Obj, ...],
) -> None:
    """A reference resolves in the build, or to a documented operator-provided Secret and key, or to
    the ``<cluster>-app`` Secret CloudNativePG makes for a Cluster of the build."""
    present = {(obj["kind"], obj["metadata"]["name"]): obj for obj in build}
    documented = _operator_secret_keys()
    clusters = set(_of_kind(build, "Cluster"))
    problems: list[str] = []
    for workload, pod in _workloads(build):
        for kind, name, key, optional in _references(pod):
            if (kind, name) in present:
                data = present[(kind, name)].get("data", {})
                if key is not None and key not in data and not optional:
                    problems.append(f"{workload}: {kind} {name} has no key {key}")
            elif kind == "Secret" and name.endswith("-app") and name.removesuffix("-app") in clusters:
                assert key in (None, "username", "password", "host", "port", "dbname", "uri")
            elif kind == "Secret" and name in OPERATOR_SECRETS:
                generic = re.sub(
                    r"^(gateway|registry|contracts|homecare|indicators|residents)-", "<service>-", name
                )
                listed = documented.get(name, documented.get(generic))
                if listed is None or (key is not None and key not in listed):
                    problems.append(f"{workload}: {kind} {name} key {key} not in deploy/k8s/README.md")
            else:
                problems.append(f"{workload}: {kind} {name} neither in the build nor operator-provided")
    assert problems == []
    # the CloudNativePG clusters' own references: the backup credentials
    for cluster in _of_kind(build, "Cluster").values():
        for ref in cluster["spec"]["backup"]["barmanObjectStore"]["s3Credentials"].values():
            assert ref["name"] in OPERATOR_SECRETS
            assert ref["key"] in documented[ref["name"]]
    # the Ingress's certificate
    for ingress in _of_kind(build, "Ingress").values():
        for tls in ingress["spec"]["tls"]:
            assert tls["secretName"].startswith("yiyang")
            assert tls["secretName"].endswith("-tls")


def test_production_commits_no_secret() -> None:
    assert _of_kind(_build("production"), "Secret") == {}


def test_stagings_example_secrets_are_refused_by_the_services() -> None:
    """The example values of staging's secretGenerator cannot reach a running service unchanged: every
    service's production check refuses them, and the signing key is no key."""
    secrets = {
        name: {key: base64.b64decode(value).decode() for key, value in secret["data"].items()}
        for name, secret in _of_kind(_build("staging"), "Secret").items()
    }
    for service, settings_type in SETTINGS.items():
        personal = secrets[f"{service}-personal-data"]
        settings = settings_type(
            environment="production",
            personal_data_keys=json.loads(personal["keys"]),
            personal_data_primary_key_id=personal["primary-key-id"],
            personal_data_lookup_key=personal["lookup-key"],
            service_client_secret=secrets["service-clients"].get(service, ""),
        )
        problems = " ".join(settings.production_checks())
        assert f"{service.upper()}_PERSONAL_DATA_KEYS" in problems
        assert f"{service.upper()}_PERSONAL_DATA_LOOKUP_KEY" in problems
        if service in CALLERS:
            assert f"{service.upper()}_SERVICE_CLIENT_SECRET" in problems
    gateway = GatewaySettings(environment="production", service_clients=secrets["service-clients"])
    assert "GATEWAY_SERVICE_CLIENTS" in " ".join(gateway.production_checks())
    with pytest.raises(ValueError, match="PEM|pem|Could not deserialize"):
        load_pem_private_key(secrets["gateway-signing-key"]["signing-key.pem"].encode(), password=None)


# --------------------------------------------------------------------------------------------- network


@dataclass(frozen=True)
class Pod:
    """A pod as the NetworkPolicies see it: its namespace's labels and its own."""

    name: str
    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)


def _matches(selector: Obj, labels: Mapping[str, str]) -> bool:
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        value = labels.get(expression["key"])
        operator = expression["operator"]
        if operator == "In" and value not in expression["values"]:
            return False
        if operator == "NotIn" and value in expression["values"]:
            return False
        if operator == "Exists" and value is None:
            return False
        if operator == "DoesNotExist" and value is not None:
            return False
    return True


def _peer_matches(peer: Obj, pod: Pod, namespace: str) -> bool:
    namespace_labels = {"kubernetes.io/metadata.name": pod.namespace}
    if "ipBlock" in peer:
        return False
    if "namespaceSelector" in peer:
        if not _matches(peer["namespaceSelector"], namespace_labels):
            return False
    elif pod.namespace != namespace:
        return False
    return _matches(peer.get("podSelector", {}), pod.labels)


def _port_matches(rule: Obj, port: int) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    return any(item["port"] <= port <= item.get("endPort", item["port"]) for item in ports)


def _allows(policies: list[Obj], direction: str, pod: Pod, peer: Pod, port: int, namespace: str) -> bool:
    """Whether the policies let ``peer`` reach ``pod`` (Ingress) or ``pod`` reach ``peer`` (Egress)."""
    selecting = [
        policy
        for policy in policies
        if pod.namespace == namespace
        and direction in policy["spec"].get("policyTypes", ["Ingress"])
        and _matches(policy["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    side, peers = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    return any(
        _port_matches(rule, port)
        and (peers not in rule or any(_peer_matches(p, peer, namespace) for p in rule[peers]))
        for policy in selecting
        for rule in policy["spec"].get(side, [])
    )


class Network:
    """The build's pods (from its Deployments, Jobs and Clusters) and a few outside its namespace, and
    which of them may open a connection to which."""

    def __init__(self, objects: tuple[Obj, ...]) -> None:
        self.policies = list(_of_kind(objects, "NetworkPolicy").values())
        (self.namespace,) = {obj["metadata"]["namespace"] for obj in self.policies}
        self.pods: dict[str, Pod] = {}
        for obj in objects:
            if obj["kind"] in ("Deployment", "Job"):
                name = obj["metadata"]["name"]
                self.pods[name] = Pod(name, self.namespace, obj["spec"]["template"]["metadata"]["labels"])
            if obj["kind"] == "Cluster":
                name = obj["metadata"]["name"]
                self.pods[name] = Pod(name, self.namespace, {"cnpg.io/cluster": name})
        for name, namespace, labels in (
            (INGRESS_NAMESPACE, INGRESS_NAMESPACE, {"app.kubernetes.io/name": "ingress-nginx"}),
            (MONITORING_NAMESPACE, MONITORING_NAMESPACE, {"app.kubernetes.io/name": "prometheus"}),
            (OPERATOR_NAMESPACE, OPERATOR_NAMESPACE, {"app.kubernetes.io/name": "cloudnative-pg"}),
            ("kube-dns", "kube-system", {"k8s-app": "kube-dns"}),
            (
                "elsewhere",
                "default",
                {"app.kubernetes.io/name": "gateway", "app.kubernetes.io/component": "api"},
            ),
        ):
            self.pods[name] = Pod(name, namespace, labels)

    def reaches(self, source: str, target: str, port: int, *, egress: bool = True) -> bool:
        """Whether ``source`` may open a connection to ``target``'s port: the source's egress policies
        and the target's ingress policies both let it (only the latter when ``egress`` is false)."""
        src, dst = self.pods[source], self.pods[target]
        if egress and not _allows(self.policies, "Egress", src, dst, port, self.namespace):
            return False
        return _allows(self.policies, "Ingress", dst, src, port, self.namespace)

    def sources(self, target: str, port: int, *, egress: bool = True) -> set[str]:
        return {
            name for name in self.pods if name != target and self.reaches(name, target, port, egress=egress)
        }


def _ports(objects: tuple[Obj, ...]) -> dict[str, int]:
    ports = {name: services_port(objects, name) for name in (*SERVICES, "console")}
    ports.update({f"{service}-db": 5432 for service in SERVICES})
    return ports


def test_only_the_gateway_reaches_the_services(build: tuple[Obj, ...]) -> None:
    """Besides Prometheus (namespace monitoring, for /metrics): nothing in another namespace, no other
    service, no Job and no database reaches a service; the gateway is reached by the ingress controller,
    the console and the services (tokens, JWKS, their calls to each other); the console only by the
    ingress controller."""
    network, ports = Network(build), _ports(build)
    for egress in (True, False):  # each layer on its own: the callers' egress and the callee's ingress
        for service in SERVICES[1:]:
            assert network.sources(service, ports[service], egress=egress) == {
                "gateway",
                MONITORING_NAMESPACE,
            }
        assert network.sources("gateway", ports["gateway"], egress=egress) == {
            INGRESS_NAMESPACE,
            MONITORING_NAMESPACE,
            "console",
            *SERVICES[1:],
        }
        assert network.sources("console", ports["console"], egress=egress) == {INGRESS_NAMESPACE}


def test_only_a_service_reaches_its_database(build: tuple[Obj, ...]) -> None:
    """``<service>-db`` answers on 5432 its service's pods and migration Job, its own instances and the
    CloudNativePG operator, nobody else; its metrics exporter (9187) only Prometheus."""
    network = Network(build)
    for service in SERVICES:
        expected = {service, f"{service}-migrate", OPERATOR_NAMESPACE}
        assert network.sources(f"{service}-db", 5432) == expected
        # and the database's own policy alone (were the others' egress rules wrong)
        assert network.sources(f"{service}-db", 5432, egress=False) == expected
        # Prometheus reads the instances' exporter, and nothing else
        assert network.sources(f"{service}-db", 9187) == {MONITORING_NAMESPACE}


def test_what_each_pod_reaches(build: tuple[Obj, ...]) -> None:
    """Egress: a service reaches its database, the gateway and DNS; the indicators reach the other
    services' feeds through the gateway, not directly; the gateway reaches every service; a migration Job
    reaches its database and DNS only."""
    network, ports = Network(build), _ports(build)
    targets = [name for name in ports if name in network.pods]

    def reached(source: str) -> set[str]:
        found = {
            target
            for target in targets
            if target != source and network.reaches(source, target, ports[target])
        }
        if network.reaches(source, "kube-dns", 53):
            found.add("dns")
        return found

    assert reached("gateway") == {"gateway-db", *SERVICES[1:], "dns"}
    for service in SERVICES[1:]:
        assert reached(service) == {f"{service}-db", "gateway", "dns"}, service
        assert reached(f"{service}-migrate") == {f"{service}-db", "dns"}
    assert reached("gateway-migrate") == {"gateway-db", "dns"}
    assert reached("console") == {"gateway", "dns"}
    assert not network.reaches("indicators", "registry", ports["registry"])


def test_the_ingress_routes_the_api_to_the_gateway_and_the_rest_to_the_console(
    build: tuple[Obj, ...],
) -> None:
    (ingress,) = _of_kind(build, "Ingress").values()
    services = _of_kind(build, "Service")
    (rule,) = ingress["spec"]["rules"]
    assert ingress["spec"]["tls"][0]["hosts"] == [rule["host"]]
    routes = {path["path"]: path["backend"]["service"] for path in rule["http"]["paths"]}
    assert {path for path, backend in routes.items() if backend["name"] == "gateway"} == {
        "/api",
        "/.well-known",
        "/openapi.json",
        "/docs",
        "/redoc",
    }
    assert routes["/"]["name"] == "console"
    for backend in routes.values():
        assert backend["port"]["name"] in {
            port["name"] for port in services[backend["name"]]["spec"]["ports"]
        }
    assert not any(path.startswith(("/metrics", "/healthz", "/readyz")) for path in routes)
