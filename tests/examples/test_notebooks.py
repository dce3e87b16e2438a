"""The example notebooks: stored without outputs, and each runs top to bottom offline in a real Jupyter kernel."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[2] / "examples").glob("*.ipynb"))
NAMES = [path.name for path in NOTEBOOKS]


def test_the_three_example_notebooks_exist() -> None:
    assert NAMES == ["01_analysis_walkthrough.ipynb", "02_runtime_model.ipynb", "03_knowledge_index.ipynb"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_is_valid_and_saved_without_outputs(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code, "a notebook without code cells"
    for cell in code:
        assert cell.outputs == [], f"stored outputs in: {cell.source[:60]!r}"
        assert cell.execution_count is None, f"stored execution count in: {cell.source[:60]!r}"
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=NAMES)
def test_notebook_runs_top_to_bottom(path: Path, examples_dir: Path, jupyter_kernel: tuple[str, str],
                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from jupyter_client.kernelspec import KernelSpecManager
    from nbclient import NotebookClient

    jupyter_path, kernel_name = jupyter_kernel
    monkeypatch.setenv("JUPYTER_PATH", jupyter_path)
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # what the notebooks write to temp dirs stays in this test's dir
    spec = KernelSpecManager().get_kernel_spec(kernel_name)
    assert spec.argv[0] == sys.executable  # the kernel runs in this environment, where copilot is installed
    notebook = nbformat.read(path, as_version=4)
    client = NotebookClient(notebook, timeout=300, kernel_name=kernel_name, allow_errors=False,
                            resources={"metadata": {"path": str(examples_dir)}})
    client.execute()  # raises CellExecutionError with the failing cell's traceback
    outputs = [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream" and o.name == "stdout")
    assert text.strip(), "the notebook printed nothing"
    if path.name.startswith("01_"):
        rich = [o for o in outputs if o.output_type == "execute_result" and "text/html" in o.data]
        assert rich and "<svg" in rich[0].data["text/html"], "the Report did not render as HTML with charts"
    if path.name.startswith("02_"):  # same table and seed: the retrained model predicts what the shipped one does
        pairs = re.findall(r"retrained ([0-9.]+) s; shipped ([0-9.]+) s", text)
        assert len(pairs) == 3 and all(a == b for a, b in pairs), pairs
