"""Health of each component as `/health` reports it: store, knowledge index, model, LLM reachability."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from api_server import free_port

from copilot.api.health import knowledge_health, llm_health, model_health, store_health
from copilot.settings import Settings
from copilot.store import Store
from copilot.store.jobs import JobStore


class ModelsEndpoint:
    """A minimal OpenAI-compatible `GET /v1/models` on 127.0.0.1 answering `status`."""

    def __init__(self, status: int) -> None:
        self.authorizations: list[str | None] = []
        endpoint = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                endpoint.authorizations.append(self.headers.get("Authorization"))
                body = json.dumps({"object": "list", "data": [{"id": "stub", "object": "model"}]}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def endpoint(request):
    stub = ModelsEndpoint(request.param)
    yield stub
    stub.close()


def test_llm_not_configured_is_offline_mode_not_a_failure():
    assert llm_health(Settings()).status == "not configured"


@pytest.mark.parametrize("endpoint", [200], indirect=True)
def test_reachable_llm_endpoint_is_ok_and_gets_the_key(endpoint):
    settings = Settings(llm={"base_url": endpoint.base_url, "api_key": "sk-health-probe-key"})
    health = llm_health(settings)
    assert health.status == "ok"
    assert endpoint.authorizations == ["Bearer sk-health-probe-key"]
    assert "sk-health" not in health.detail


@pytest.mark.parametrize("endpoint", [401], indirect=True)
def test_llm_endpoint_refusing_the_key_is_degraded(endpoint):
    health = llm_health(Settings(llm={"base_url": endpoint.base_url, "api_key": "wrong"}))
    assert health.status == "degraded" and "refused the API key" in health.detail


def test_unreachable_llm_endpoint_is_degraded_because_analyses_fall_back_to_offline():
    health = llm_health(Settings(llm={"base_url": f"http://127.0.0.1:{free_port()}/v1"}))
    assert health.status == "degraded" and "unreachable" in health.detail


def test_store_knowledge_index_and_model(tmp_path):
    settings = Settings(home=tmp_path, chroma_dir=tmp_path / "no-index-yet")
    assert store_health(JobStore(Store(tmp_path / "copilot.duckdb"))).status == "ok"
    assert knowledge_health(settings).status == "degraded"
    assert model_health(settings).status == "ok"  # the shipped runtime model
    assert model_health(Settings(home=tmp_path, model_path=tmp_path)).status == "degraded"
    (tmp_path / "blocker").write_text("a file where the store's directory should be")
    assert store_health(JobStore(Store(tmp_path / "blocker" / "copilot.duckdb"))).status == "unavailable"
