"""Every lesson's exercise checks must fail on a wrong answer.

Lessons tag their cells: ``setup`` (imports, seeding), ``exercise-answer``
(the learner's answer, shipped with a worked solution so the notebook runs
end to end) and ``exercise-check`` (verifies it). Each answer cell carries a
plausible wrong answer in its metadata (``styletut.wrong_answer``). Here we
run setup + wrong answer + check in a real kernel and expect the check to
raise; nbval runs the notebooks as shipped, where the checks must pass.
Exercises need nothing but the setup cell, so this is cheap.
"""

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _tags(cell):
    return cell.get("metadata", {}).get("tags", [])


def _exercises(nb):
    setup = [c for c in nb.cells if "setup" in _tags(c)]
    pairs, answer = [], None
    for cell in nb.cells:
        if "exercise-answer" in _tags(cell):
            answer = cell
        elif "exercise-check" in _tags(cell) and answer is not None:
            pairs.append((answer, cell))
            answer = None
    return setup, pairs


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_checks_reject_wrong_answers(path):
    nb = nbformat.read(path, as_version=4)
    setup, pairs = _exercises(nb)
    assert len(setup) == 1, f"{path.name}: exactly one cell must be tagged 'setup'"
    assert len(pairs) >= 2, f"{path.name}: needs at least two exercises (answer + check cells)"
    cells = [nbformat.v4.new_code_cell(setup[0].source)]
    for answer, check in pairs:
        wrong = answer.metadata.get("styletut", {}).get("wrong_answer")
        assert wrong, f"{path.name}: an exercise-answer cell has no styletut.wrong_answer metadata"
        cells += [nbformat.v4.new_code_cell(wrong), nbformat.v4.new_code_cell(check.source)]
    run_nb = nbformat.v4.new_notebook(cells=cells)
    client = NotebookClient(run_nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    env = dict(os.environ, STYLETUT_QUICK="1")
    with client.setup_kernel(env=env):
        client.execute_cell(cells[0], 0)
        for i in range(1, len(cells), 2):
            client.execute_cell(cells[i], i)  # the wrong answer itself must run
            with pytest.raises(CellExecutionError) as err:
                client.execute_cell(cells[i + 1], i + 1)
            assert "AssertionError" in str(err.value), f"{path.name}: check failed for another reason:\n{err.value}"
