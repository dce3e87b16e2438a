"""deploy/k8s: probes on /health at the served port, a PVC at COPILOT_HOME, non-root and read-only root,
resources, and every Secret key and setting the Deployment names exists."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from copilot.settings import Settings

UNITS = {"": 1, "m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 1e3, "M": 1e6, "G": 1e9}


def quantity(value: str | int) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value)).groups()
    return float(number) * UNITS[unit]


def pod_spec(manifests: dict) -> dict:
    return manifests["Deployment"]["spec"]["template"]["spec"]


def port_number(container: dict, port: str | int) -> int:
    """A probe's or Service's port: a number, or the name of one of the container's ports."""
    if isinstance(port, int):
        return port
    return next(p["containerPort"] for p in container["ports"] if p["name"] == port)


def env_values(container: dict) -> dict[str, dict | str]:
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in container["env"]}


def test_the_manifests_hold_the_objects_a_deployment_needs(manifests: dict) -> None:
    assert {"Deployment", "Service", "PersistentVolumeClaim", "Secret", "ConfigMap", "Kustomization"} <= set(manifests)


def test_kustomize_applies_everything_but_the_secret_template(manifests: dict, repo: Path) -> None:
    resources = manifests["Kustomization"]["resources"]
    assert all((repo / "deploy" / "k8s" / name).is_file() for name in resources)
    assert manifests["Secret"]["_file"] not in resources, "placeholder secrets must never be applied by default"
    assert {manifests[k]["_file"] for k in ("Deployment", "Service", "PersistentVolumeClaim", "ConfigMap")} <= set(resources)


def test_the_container_serves_the_port_the_image_exposes(container: dict, final_stage: list) -> None:
    exposed = next(c.value[0] for c in final_stage if c.cmd == "EXPOSE")
    cmd = list(next(c.value for c in final_stage if c.cmd == "CMD"))
    assert container["args"] == cmd  # copilot serve --host 0.0.0.0 --port 8000
    port = int(cmd[cmd.index("--port") + 1])
    assert port_number(container, "http") == port == int(exposed)


# Liveness must not depend on the store or the LLM (a batch holding the DuckDB file would get the pod killed).
PROBE_PATHS = {"readinessProbe": "/health", "livenessProbe": "/health/live", "startupProbe": "/health"}


@pytest.mark.parametrize("probe", list(PROBE_PATHS))
def test_probes_call_health_on_the_served_port(container: dict, probe: str) -> None:
    from copilot.api.app import create_app

    check = container[probe]["httpGet"]
    assert check["path"] == PROBE_PATHS[probe]
    assert check["path"] in create_app().openapi()["paths"]
    served = int(container["args"][container["args"].index("--port") + 1])
    assert port_number(container, check["port"]) == served
    assert container[probe]["timeoutSeconds" if probe != "startupProbe" else "periodSeconds"] > 0


def test_the_service_reaches_the_pods_on_the_served_port(manifests: dict, container: dict) -> None:
    service = manifests["Service"]["spec"]
    labels = manifests["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["selector"].items() <= labels.items()
    assert manifests["Deployment"]["spec"]["selector"]["matchLabels"].items() <= labels.items()
    (port,) = service["ports"]
    assert port_number(container, port["targetPort"]) == port_number(container, "http")


def test_copilot_home_is_the_mounted_volume_claim(manifests: dict, container: dict, final_stage: list) -> None:
    home = env_values(container)["COPILOT_HOME"]
    image_home = next(c.value[c.value.index("COPILOT_HOME") + 1] for c in final_stage if c.cmd == "ENV" and "COPILOT_HOME" in c.value)
    assert home == image_home
    mount = next(m for m in container["volumeMounts"] if m["mountPath"] == home)
    volume = next(v for v in pod_spec(manifests)["volumes"] if v["name"] == mount["name"])
    assert volume["persistentVolumeClaim"]["claimName"] == manifests["PersistentVolumeClaim"]["metadata"]["name"]
    assert quantity(manifests["PersistentVolumeClaim"]["spec"]["resources"]["requests"]["storage"]) >= 2**30
    assert not mount.get("readOnly", False)


def test_a_read_write_once_store_runs_one_replica_replaced_not_rolled(manifests: dict) -> None:
    assert manifests["PersistentVolumeClaim"]["spec"]["accessModes"] == ["ReadWriteOnce"]
    spec = manifests["Deployment"]["spec"]
    assert spec["replicas"] == 1 and spec["strategy"]["type"] == "Recreate"  # one DuckDB writer


def test_the_pod_runs_as_the_image_user_never_root(manifests: dict, container: dict, final_stage: list) -> None:
    image_user = next(c.value[0] for c in reversed(final_stage) if c.cmd == "USER").split(":")[0]
    pod = pod_spec(manifests)["securityContext"]
    assert pod["runAsNonRoot"] is True and container["securityContext"]["runAsNonRoot"] is True
    assert str(pod["runAsUser"]) == image_user != "0"
    assert pod["fsGroup"] != 0  # the volume is writable by that user
    assert pod_spec(manifests)["automountServiceAccountToken"] is False


def test_the_root_filesystem_is_read_only_and_tmp_is_writable(manifests: dict, container: dict) -> None:
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False and security["capabilities"]["drop"] == ["ALL"]
    tmp = next(m for m in container["volumeMounts"] if m["mountPath"] == "/tmp")
    assert "emptyDir" in next(v for v in pod_spec(manifests)["volumes"] if v["name"] == tmp["name"])
    assert env_values(container)["HOME"] == "/tmp"  # Java and Python write nothing under a read-only home


def test_resources_are_requested_and_limited(container: dict) -> None:
    resources = container["resources"]
    for kind in ("cpu", "memory"):
        request, limit = quantity(resources["requests"][kind]), quantity(resources["limits"][kind])
        assert 0 < request <= limit
    assert quantity(resources["limits"]["memory"]) >= 2 * 2**30  # a JVM and the embedding model fit


def test_every_secret_key_the_pod_reads_is_in_the_secret_template(manifests: dict, container: dict) -> None:
    secret = manifests["Secret"]
    refs = [v["secretKeyRef"] for v in env_values(container).values() if isinstance(v, dict) and "secretKeyRef" in v]
    assert refs
    for ref in refs:
        assert ref["name"] == secret["metadata"]["name"]
        assert ref["key"] in secret["stringData"]


def test_the_secret_template_holds_placeholders_only(manifests: dict) -> None:
    for key, value in manifests["Secret"]["stringData"].items():
        assert value.startswith("REPLACE_WITH_"), f"{key} holds something that is not a placeholder"


def test_the_token_is_required_and_the_llm_key_optional(container: dict) -> None:
    env = env_values(container)
    assert env["COPILOT_API__TOKEN"]["secretKeyRef"].get("optional", False) is False  # no token, no pod
    assert env["COPILOT_LLM__API_KEY"]["secretKeyRef"]["optional"] is True  # no key: offline mode


def test_the_env_names_are_the_settings_the_server_reads(manifests: dict, container: dict,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Every variable the pod gets (from the Deployment and the ConfigMap) lands in a real Settings field."""
    values = {name: f"value-of-{name}" for name, v in env_values(container).items() if isinstance(v, dict)}
    values.update(manifests["ConfigMap"]["data"])
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    settings = Settings()
    assert isinstance(settings.api.token, SecretStr)
    assert settings.api.token.get_secret_value() == "value-of-COPILOT_API__TOKEN"
    assert settings.llm.api_key.get_secret_value() == "value-of-COPILOT_LLM__API_KEY"
    assert settings.api.allowed_dirs == [Path("/data/eventlogs")]
    assert settings.api.max_concurrent_jobs == int(manifests["ConfigMap"]["data"]["COPILOT_API__MAX_CONCURRENT_JOBS"])
    assert settings.llm.model == manifests["ConfigMap"]["data"]["COPILOT_LLM__MODEL"]
    assert not settings.llm.base_url, "an empty base URL keeps the server offline"
    for name in manifests["ConfigMap"]["data"]:
        section, _, field = name.removeprefix("COPILOT_").lower().partition("__")
        assert field in type(getattr(settings, section)).model_fields, f"{name} is not a setting"


def test_allowed_dirs_are_inside_the_data_volume(manifests: dict, container: dict) -> None:
    home = Path(env_values(container)["COPILOT_HOME"])
    for allowed in yaml.safe_load(manifests["ConfigMap"]["data"]["COPILOT_API__ALLOWED_DIRS"]):
        assert Path(allowed).is_relative_to(home)


def test_the_image_name_is_the_one_kustomize_retags(manifests: dict, container: dict) -> None:
    assert container["image"] in {image["name"] for image in manifests["Kustomization"]["images"]}


@pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed; the manifests are checked by parsing above")
def test_kubectl_kustomize_renders_the_manifests(repo: Path) -> None:
    result = subprocess.run(["kubectl", "kustomize", str(repo / "deploy" / "k8s")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rendered = [d for d in yaml.safe_load_all(result.stdout) if d]
    assert sorted(d["kind"] for d in rendered) == ["ConfigMap", "Deployment", "PersistentVolumeClaim", "Service"]
    assert all(d["metadata"]["labels"]["app.kubernetes.io/name"] == "spark-copilot" for d in rendered)
    deployment = next(d for d in rendered if d["kind"] == "Deployment")
    assert deployment["spec"]["template"]["spec"]["containers"][0]["image"] == "spark-copilot:latest"
