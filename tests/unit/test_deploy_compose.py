"""deploy/compose.yaml and the Dockerfile: clusters, replicas, probes, no default secrets."""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parents[2]
SERVICES = {"console": 8000, "intake": 8001, "privacy": 8002, "routing": 8003, "notify": 8004}


def _compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text(encoding="utf-8"))


def test_every_service_has_replicas_and_checks_healthz_and_readyz() -> None:
    services = _compose()["services"]
    for name, port in SERVICES.items():
        svc = services[name]
        assert svc["command"] == ["run", name]
        assert svc["deploy"]["replicas"] >= 2
        probe = " ".join(svc["healthcheck"]["test"])
        assert f"127.0.0.1:{port}" in probe
        assert "/healthz" in probe
        assert "/readyz" in probe
        assert svc["depends_on"]["mongo-init"]["condition"] == "service_completed_successfully"


def test_rabbitmq_is_three_nodes_found_by_classic_peer_discovery() -> None:
    services = _compose()["services"]
    nodes = sorted(n for n in services if n.startswith("rabbitmq-"))
    assert nodes == ["rabbitmq-1", "rabbitmq-2", "rabbitmq-3"]
    conf = (ROOT / "deploy" / "rabbitmq" / "rabbitmq.conf").read_text()
    assert "cluster_formation.peer_discovery_backend = classic_config" in conf
    assert "default_queue_type = quorum" in conf
    listed = set(re.findall(r"nodes\.\d+ = rabbit@(\S+)", conf))
    assert listed == {services[n]["hostname"] for n in nodes}


def test_mongodb_is_a_three_member_replica_set_initiated_by_a_job() -> None:
    compose = _compose()
    members = sorted(n for n in compose["services"] if re.fullmatch(r"mongo-\d", n))
    assert members == ["mongo-1", "mongo-2", "mongo-3"]
    assert "--replSet" in compose["x-mongo"]["command"]
    script = (ROOT / "deploy" / "mongo" / "init-replica-set.js").read_text()
    assert set(re.findall(r'host: "([\w-]+):27017"', script)) == set(members)
    url = compose["x-vocdesk"]["environment"]["VOCDESK_MONGO_URL"]
    assert all(f"{m}:27017" in url for m in members)
    assert "replicaSet=rs0" in url


def test_secrets_have_no_defaults() -> None:
    env = _compose()["x-vocdesk"]["environment"]
    secrets = [k for k in env if k.endswith(("_KEY", "_SECRET", "_TOKEN", "_KEK"))]
    assert len(secrets) >= 6
    for key in secrets:
        assert re.fullmatch(r"\$\{VOCDESK_[A-Z_]+:\?[^}]+\}", env[key]), key


def test_dockerfile_is_multi_stage_non_root_without_the_embedded_extra() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, flags=re.MULTILINE)) >= 2
    assert re.search(r"^USER (?!0\b|root)", text, flags=re.MULTILINE)
    assert "tesseract-ocr-tha" in text
    assert "poppler-utils" in text
    assert "[embedded" not in text
    # The only mention of the embedded server is the check that it is absent.
    assert text.lower().count("secantus") == text.count("! /opt/vocdesk/bin/pip show SecantusDB")
    assert "-slim-bookworm" in text


def test_compose_file_is_valid_against_the_compose_specification() -> None:
    # The Compose Specification's own JSON schema, as check-jsonschema vendors it.
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(_compose()), key=lambda e: list(e.absolute_path))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors]
    # The schema refuses what compose itself would: a misspelt key fails.
    broken = _compose()
    broken["services"]["routing"]["healthchek"] = broken["services"]["routing"].pop("healthcheck")
    assert any(True for _ in validator.iter_errors(broken))
