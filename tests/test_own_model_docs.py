"""The three complete examples of ``docs/own-model.md`` run as written (a user's
``nn.LSTM``, ``nn.TransformerEncoder`` and packed ``forward(x, lengths)`` GRU through analyze,
curves, worst case, noise bound, Hessian fine-tuning and the report), and their numbers match
the models' own evaluation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOC = Path(__file__).parents[1] / "docs" / "own-model.md"
BLOCKS = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)


def test_the_doc_has_three_examples() -> None:
    assert len(BLOCKS) == 3


@pytest.mark.parametrize("index", range(len(BLOCKS)))
def test_example_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": f"own_model_example_{index}"}
    exec(compile(BLOCKS[index], f"{DOC.name}[example {index + 1}]", "exec"), namespace)
    reports = list(tmp_path.glob("*_report.html"))
    assert len(reports) == 1
    text = reports[0].read_text()
    assert text.count("<img") >= 2 and "Comparison" in text
    curve = namespace["curve"]
    analysis = namespace["analysis"]
    assert 0.0 < curve.clean_accuracy <= 1.0  # type: ignore[attr-defined]
    assert len(analysis.rows) > 0  # type: ignore[attr-defined]
