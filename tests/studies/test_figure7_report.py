"""``figure7.md``/``.csv``/``.png``: names escaped, provenance listed, no write through a
symlink."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from seqrobust.measure.checks import Check
from seqrobust.measure.robustness import AttackSettings, RobustnessCurve
from seqrobust.studies.figure7 import Figure7Config
from seqrobust.studies.figure7_report import write_figure7

CFG = Figure7Config.quick()


def _curve(label: str) -> RobustnessCurve:
    eps = CFG.eps
    acc = tuple(max(0.0, 0.9 - 0.05 * i) for i in range(len(eps)))
    return RobustnessCurve(label=label, settings=AttackSettings(attack="pgd"), eps=eps,
                           accuracy=acc, clean_accuracy=0.95, n=10, seconds=1.0,
                           first_fooled=(len(eps),) * 10)


def _write(out: Path, label: str) -> Path:
    curves = [_curve("plain"), _curve(label)]
    checks = {label: [Check("a | check", "pass", "detail with *stars*")]}
    provenance = {c.label: {"weights_sha256": "ab" * 32, "data_tensors_sha256": "cd" * 32}
                  for c in curves}
    return write_figure7(CFG, out, 0.95, [("my|reg", 0.1, 0.94, True)], curves, [], checks,
                         ["note with <html> & a # mark"], [], provenance)


def test_names_are_escaped_and_provenance_listed(tmp_path: Path) -> None:
    report = _write(tmp_path, r"hessian|x $\mathbad$ (λ=0.1)")
    text = report.read_text()
    tables: list[list[str]] = [[]]
    for line in text.splitlines():
        if line.startswith("|"):
            tables[-1].append(line)
        elif tables[-1]:
            tables.append([])
    assert len([t for t in tables if t]) == 5
    for table in tables:  # no cell border smuggled in by a name
        assert len({len(re.findall(r"(?<!\\)\|", line)) for line in table}) <= 1, table
    assert r"hessian\|x \$\\mathbad\$ (λ=0.1)" in text and r"my\|reg" in text
    assert r"note with \<html\> \& a # mark" in text and r"a \| check" in text
    assert f"`{'ab' * 8}`" in text and f"`{'cd' * 8}`" in text
    assert (tmp_path / "figure7.png").read_bytes()[:4] == b"\x89PNG"  # mathtext kept out
    assert "model,attack,n,eps_pixels,accuracy" in (tmp_path / "figure7.csv").read_text()


@pytest.mark.parametrize("name", ["figure7.md", "figure7.csv", "figure7.png"])
def test_a_symlinked_output_is_refused(tmp_path: Path, name: str) -> None:
    out, outside = tmp_path / "out", tmp_path / "outside.txt"
    out.mkdir()
    outside.write_text("precious\n")
    (out / name).symlink_to(outside)
    with pytest.raises(ValueError, match="is a symlink; refusing to write through it"):
        _write(out, "hessian")
    assert outside.read_text() == "precious\n" and [p.name for p in out.iterdir()] == [name]
