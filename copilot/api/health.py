"""`GET /health`: can this server analyze, and with what (store, knowledge index, runtime model, LLM)."""

from __future__ import annotations

from pathlib import Path

from copilot.api.problems import one_line
from copilot.api.schemas import ComponentHealth, Health

LLM_PROBE_TIMEOUT_S = 3.0


def store_health(jobs) -> ComponentHealth:
    try:
        version = jobs.schema_version()
        return ComponentHealth(status="ok", detail=f"history store schema version {version}")
    except Exception as exc:  # noqa: BLE001 - health reports, never raises
        return ComponentHealth(status="unavailable", detail=one_line(exc, 200))


def knowledge_health(settings) -> ComponentHealth:
    chroma = Path(settings.chroma_dir)
    if chroma.is_dir() and any(chroma.iterdir()):
        return ComponentHealth(status="ok", detail="knowledge index built")
    return ComponentHealth(status="degraded", detail="knowledge index not built yet (the first analysis builds it)")


def model_health(settings) -> ComponentHealth:
    try:
        from models.predict import load_model

        load_model(settings.model_path)
        return ComponentHealth(status="ok", detail="runtime model loaded")
    except Exception as exc:  # noqa: BLE001
        return ComponentHealth(status="degraded", detail=f"runtime model unavailable ({one_line(exc, 200)}); "
                                                         "reports carry no model predictions")


def llm_health(settings) -> ComponentHealth:
    """Offline (no endpoint configured) is a normal way to run; an unreachable endpoint means offline reports."""
    import httpx

    config = settings.llm
    if not config.configured:
        return ComponentHealth(status="not configured", detail="offline mode: the built-in analysis writes reports")
    base_url = (config.base_url or "https://api.openai.com/v1").rstrip("/")
    headers = {"Authorization": f"Bearer {config.api_key.get_secret_value()}"} if config.api_key else {}
    try:
        response = httpx.get(f"{base_url}/models", headers=headers, timeout=LLM_PROBE_TIMEOUT_S)
    except httpx.HTTPError as exc:
        return ComponentHealth(status="degraded", detail=f"LLM endpoint unreachable ({type(exc).__name__}); "
                                                         "analyses fall back to offline reports")
    if response.status_code in (401, 403):
        return ComponentHealth(status="degraded", detail=f"LLM endpoint refused the API key ({response.status_code})")
    if response.status_code >= 500:
        return ComponentHealth(status="degraded", detail=f"LLM endpoint answered {response.status_code}")
    return ComponentHealth(status="ok", detail=f"LLM endpoint reachable (model {config.model})")


def health(settings, jobs, runner) -> Health:
    components = {
        "store": store_health(jobs),
        "jobs": (ComponentHealth(status="ok", detail=f"{runner.active} jobs queued or running")
                 if not runner.closed else ComponentHealth(status="unavailable", detail="shutting down")),
        "knowledge_index": knowledge_health(settings),
        "model": model_health(settings),
        "llm": llm_health(settings),
    }
    states = {c.status for c in components.values()}
    overall = "unavailable" if "unavailable" in states else "degraded" if "degraded" in states else "ok"
    return Health(status=overall, components=components, jobs_active=runner.active)
