"""Fixtures for the deployment tests: the parsed Dockerfile, .dockerignore and Kubernetes manifests of deploy/."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).parents[2]
DEPLOY = REPO / "deploy"


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


@pytest.fixture(scope="session")
def dockerfile_instructions() -> list:
    """deploy/Dockerfile as parsed by BuildKit's own parser (the `dockerfile` package)."""
    import dockerfile

    return list(dockerfile.parse_file(str(DEPLOY / "Dockerfile")))


@pytest.fixture(scope="session")
def final_stage(dockerfile_instructions: list) -> list:
    """The instructions of the last stage (the image that ships)."""
    starts = [i for i, c in enumerate(dockerfile_instructions) if c.cmd == "FROM"]
    return dockerfile_instructions[starts[-1]:]


@pytest.fixture(scope="session")
def manifests() -> dict[str, dict]:
    """Every Kubernetes object under deploy/k8s by kind (one of each), the kustomization included."""
    objects: dict[str, dict] = {}
    for path in sorted((DEPLOY / "k8s").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if document:
                assert document["kind"] not in objects, f"two {document['kind']} objects"
                objects[document["kind"]] = {**document, "_file": path.name}
    return objects


@pytest.fixture(scope="session")
def container(manifests: dict[str, dict]) -> dict:
    containers = manifests["Deployment"]["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]
