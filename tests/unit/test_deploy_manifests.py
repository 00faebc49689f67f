"""The deployment files: schema-valid Kubernetes objects, and the project's own invariants.

Core objects are checked with kubernetes-validate; the operators' resources
against their CRD schemas in tests/fixtures/crds/ (see its README).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from referencing import Registry, Resource

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
SERVICES = {"console": 8000, "intake": 8001, "privacy": 8002, "routing": 8003, "notify": 8004}
CORE_KINDS = {"Deployment", "Service", "PodDisruptionBudget", "ConfigMap", "Secret"}
PLACEHOLDERS = {"change-me", "changeme", "secret", "password", "guest", "todo", "xxx", ""}
CRDS = ROOT / "tests" / "fixtures" / "crds"
CRD_SCHEMAS = {
    ("keda.sh/v1alpha1", "ScaledObject"): "keda.sh_v1alpha1_scaledobject.json",
    ("keda.sh/v1alpha1", "TriggerAuthentication"): "keda.sh_v1alpha1_triggerauthentication.json",
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): "rabbitmq.com_v1beta1_rabbitmqcluster.json",
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): (
        "mongodbcommunity.mongodb.com_v1_mongodbcommunity.json"
    ),
}


def _k8s_objects() -> list[dict[str, Any]]:
    objects: list[dict[str, Any]] = []
    for path in sorted(K8S.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        objects += [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]
    return objects


def _consumer_queues() -> set[str]:
    """Read the queue table of docs/architecture.md: the queues that take work."""
    text = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| `([a-z]+)\.([a-z]+)` \| `", text, flags=re.MULTILINE)
    return {f"{service}.{name}" for service, name in rows if service in SERVICES}


def _of_kind(kind: str) -> list[dict[str, Any]]:
    return [doc for doc in _k8s_objects() if doc["kind"] == kind]


@pytest.mark.parametrize(
    "obj",
    [doc for doc in _k8s_objects() if doc["kind"] in CORE_KINDS],
    ids=lambda d: f"{d['kind']}/{d['metadata']['name']}",
)
def test_core_object_is_valid_for_kubernetes_1_31(obj: dict[str, Any]) -> None:
    kubernetes_validate.validate(obj, "1.31", strict=True)


@functools.cache
def _kubernetes_definitions() -> Registry[Any]:
    """Return the Kubernetes 1.31 strict definitions kubernetes-validate ships, for ``$ref``s."""
    folder = resources.files("kubernetes_validate") / "kubernetes-json-schema"
    text = (folder / "v1.31.0-local-strict" / "_definitions.json").read_text(encoding="utf-8")
    definitions: dict[str, Any] = json.loads(text)
    resource: Resource[Any] = Resource.from_contents(definitions)
    registry: Registry[Any] = Registry().with_resource(definitions["$id"], resource)
    return registry


def _crd_errors(obj: dict[str, Any]) -> list[tuple[str, str]]:
    """Return (path, message) of every way ``obj`` breaks its CRD's schema."""
    name = CRD_SCHEMAS[(obj["apiVersion"], obj["kind"])]
    schema = json.loads((CRDS / name).read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema, registry=_kubernetes_definitions())
    return [
        (".".join(str(p) for p in error.absolute_path), error.message)
        for error in validator.iter_errors(obj)
    ]


def _operator_resources() -> list[dict[str, Any]]:
    return [doc for doc in _k8s_objects() if doc["kind"] not in CORE_KINDS]


@pytest.mark.parametrize(
    "obj", _operator_resources(), ids=lambda d: f"{d['kind']}/{d['metadata']['name']}"
)
def test_operator_resource_is_valid_for_its_crd(obj: dict[str, Any]) -> None:
    assert (obj["apiVersion"], obj["kind"]) in CRD_SCHEMAS, "no CRD schema for this resource"
    assert _crd_errors(obj) == []


def test_every_operator_kind_in_the_base_has_its_schema_checked() -> None:
    kinds = {(doc["apiVersion"], doc["kind"]) for doc in _operator_resources()}
    assert kinds == set(CRD_SCHEMAS)


_DROP = object()
# A change to a resource of the base, and what its CRD says of it.
BROKEN = [
    ("ScaledObject", "spec.triggers.0.metadata.value", 200, "200 is not of type 'string'"),
    ("ScaledObject", "spec.minReplicaCount", "two", "'two' is not of type 'integer'"),
    ("ScaledObject", "spec.scaleTargetRef.name", _DROP, "'name' is a required property"),
    ("ScaledObject", "spec.pollingIntervall", 15, "('pollingIntervall' was unexpected)"),
    ("TriggerAuthentication", "spec.secretTargetRef.0.key", _DROP, "'key' is a required property"),
    ("RabbitmqCluster", "spec.replicas", -1, "-1 is less than the minimum of 0"),
    ("RabbitmqCluster", "spec.service.type", "Ingress", "'Ingress' is not one of"),
    ("RabbitmqCluster", "spec.persistence.storage", "lots", "'lots' does not match"),
    (
        "RabbitmqCluster",
        "spec.override.statefulSet.spec.template.spec.topologySpreadConstraints.0.maxSkew",
        "one",
        "'one' is not of type 'integer'",
    ),
    ("MongoDBCommunity", "spec.type", "ShardedCluster", "'ShardedCluster' is not one of"),
    ("MongoDBCommunity", "spec.users", _DROP, "'users' is a required property"),
    ("MongoDBCommunity", "spec.security.authentication.modes.0", "PLAIN", "'PLAIN' is not one of"),
    ("MongoDBCommunity", "metadata.lables", {"a": "b"}, "('lables' was unexpected)"),
]


def _changed(obj: dict[str, Any], path: str, value: object) -> dict[str, Any]:
    """Return a copy of ``obj`` with the dotted ``path`` set to ``value`` (or removed)."""
    out = copy.deepcopy(obj)
    *parents, last = path.split(".")
    here: Any = out
    for key in parents:
        here = here[int(key)] if isinstance(here, list) else here.setdefault(key, {})
    index: Any = int(last) if isinstance(here, list) else last
    if value is _DROP:
        del here[index]
    else:
        here[index] = value
    return out


@pytest.mark.parametrize(
    ("kind", "path", "value", "message"), BROKEN, ids=[f"{k}:{p}" for k, p, _, _ in BROKEN]
)
def test_a_broken_operator_resource_is_refused(
    kind: str, path: str, value: object, message: str
) -> None:
    obj = next(doc for doc in _operator_resources() if doc["kind"] == kind)
    assert _crd_errors(obj) == []

    errors = _crd_errors(_changed(obj, path, value))

    assert any(message in text for _, text in errors), errors
    where = path.rsplit(".", 1)[0] if value is _DROP or "unexpected" in message else path
    assert where in {at for at, _ in errors}, errors


def test_kustomization_lists_every_manifest() -> None:
    listed = set(yaml.safe_load((K8S / "kustomization.yaml").read_text())["resources"])
    assert listed == {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}


def test_every_consumer_queue_has_a_scaled_object_on_its_service() -> None:
    queues = _consumer_queues()
    assert {"privacy.contacts", "routing.contacts", "notify.events"} <= queues
    deployments = {d["metadata"]["name"] for d in _of_kind("Deployment")}
    scaled: dict[str, str] = {}
    for so in _of_kind("ScaledObject"):
        target = so["spec"]["scaleTargetRef"]["name"]
        assert target in deployments
        for trigger in so["spec"]["triggers"]:
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["mode"] == "QueueLength"
            scaled[trigger["metadata"]["queueName"]] = target
    assert set(scaled) == queues
    # A queue scales the service that consumes it (queue names start with the service).
    assert all(target == f"vocdesk-{queue.split('.')[0]}" for queue, target in scaled.items())


def test_every_deployment_runs_as_non_root_with_probes_and_a_budget() -> None:
    budgets = {
        tuple(sorted(p["spec"]["selector"]["matchLabels"].items()))
        for p in _of_kind("PodDisruptionBudget")
    }
    services = {s["metadata"]["name"]: s for s in _of_kind("Service")}
    names = set()
    for dep in _of_kind("Deployment"):
        component = dep["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]
        names.add(component)
        container = dep["spec"]["template"]["spec"]["containers"][0]
        assert container["args"] == ["run", component]
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["ports"][0]["containerPort"] == SERVICES[component]
        assert dep["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True
        assert dep["spec"]["replicas"] >= 2
        assert tuple(sorted(dep["spec"]["selector"]["matchLabels"].items())) in budgets
        assert services[component]["spec"]["ports"][0]["port"] == SERVICES[component]
    assert names == set(SERVICES)


def test_base_secrets_hold_no_values() -> None:
    for secret in _of_kind("Secret"):
        values = {**secret.get("data", {}), **secret.get("stringData", {})}
        assert not values, f"{secret['metadata']['name']} carries values in the base"
    config = _of_kind("ConfigMap")[0]["data"]
    assert config["VOCDESK_ENV"] == "production"
    assert not any(k.endswith(("_KEY", "_SECRET", "_TOKEN", "_KEK")) for k in config)


def test_operators_run_three_node_clusters() -> None:
    (rabbit,) = _of_kind("RabbitmqCluster")
    (mongo,) = _of_kind("MongoDBCommunity")
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rabbit["spec"]["replicas"] == 3
    assert "default_queue_type = quorum" in rabbit["spec"]["rabbitmq"]["additionalConfig"]
    assert mongo["apiVersion"] == "mongodbcommunity.mongodb.com/v1"
    assert mongo["spec"]["members"] == 3
    assert mongo["spec"]["type"] == "ReplicaSet"
    # The Deployments read the connection secrets the operators write.
    env = _of_kind("Deployment")[0]["spec"]["template"]["spec"]["containers"][0]["env"]
    refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in env}
    assert refs["VOCDESK_AMQP_URL"] == f"{rabbit['metadata']['name']}-default-user"
    user = mongo["spec"]["users"][0]
    assert refs["VOCDESK_MONGO_URL"] == f"{mongo['metadata']['name']}-{user['db']}-{user['name']}"


def test_image_name_agrees_between_compose_and_kubernetes() -> None:
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
    image = compose["x-vocdesk"]["image"]
    default = re.fullmatch(r"\$\{VOCDESK_IMAGE:-(.+)\}", image)
    assert default
    pods = [d["spec"]["template"]["spec"] for d in _of_kind("Deployment")]
    containers = [c for pod in pods for c in pod["containers"]]
    assert {c["image"] for c in containers} == {default.group(1)}
