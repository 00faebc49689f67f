"""``/readyz``: 503 with its reasons while a dependency does not answer, and documented so."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from shared.http import health_router


def _app(ready: bool) -> FastAPI:
    async def readiness() -> dict[str, object]:
        reasons = [] if ready else ["store did not answer within 0.8s"]
        return {"ready": ready, "service": "test", "reasons": reasons}

    app = FastAPI()
    app.include_router(health_router(readiness))
    return app


def test_not_ready_is_503_with_the_reasons() -> None:
    answer = TestClient(_app(ready=False)).get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["reasons"] == ["store did not answer within 0.8s"]


def test_ready_is_200() -> None:
    assert TestClient(_app(ready=True)).get("/readyz").status_code == 200


def test_the_description_lists_the_not_ready_answer() -> None:
    responses = _app(ready=True).openapi()["paths"]["/readyz"]["get"]["responses"]
    assert set(responses) >= {"200", "503"}
