"""scripts/readme_results.py: the README's study sections are copied from the report."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location(
    "readme_results", Path(__file__).resolve().parent.parent / "scripts" / "readme_results.py")
assert _SPEC is not None and _SPEC.loader is not None
readme_results = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(readme_results)

REPORT = """# Study

## Verdict

rho = -0.4 ![fig](s.png) [doc](docs/x.md)

## Table

| a |
|---|
| 1 |
"""


def test_sections_replace_what_stands_between_the_markers(tmp_path: Path) -> None:
    report, readme = tmp_path / "s.md", tmp_path / "README.md"
    report.write_text(REPORT)
    readme.write_text("intro\n<!-- s: Table -->\nold\nlines\n<!-- /s -->\nmiddle\n"
                      "<!-- s: Verdict -->\n<!-- /s -->\nend\n")
    assert readme_results.sync(readme, report, "s") == 2
    expected = ("intro\n<!-- s: Table -->\n| a |\n|---|\n| 1 |\n<!-- /s -->\nmiddle\n"
                "<!-- s: Verdict -->\nrho = -0.4 ![fig](docs/results/s/s.png) [doc](docs/x.md)"
                "\n<!-- /s -->\nend\n")
    assert readme.read_text() == expected
    readme_results.sync(readme, report, "s")  # idempotent
    assert readme.read_text() == expected


def test_a_missing_section_or_block_stops_with_its_name(tmp_path: Path) -> None:
    report, readme = tmp_path / "s.md", tmp_path / "README.md"
    report.write_text(REPORT)
    readme.write_text("<!-- s: Nowhere -->\n<!-- /s -->\n")
    with pytest.raises(SystemExit, match="no section '## Nowhere'"):
        readme_results.sync(readme, report, "s")
    assert readme.read_text() == "<!-- s: Nowhere -->\n<!-- /s -->\n"  # untouched
    readme.write_text("no markers\n")
    with pytest.raises(SystemExit, match="has no '<!-- s: HEADING -->' block"):
        readme_results.sync(readme, report, "s")
    with pytest.raises(SystemExit, match="no report .*missing.md: run seqrobust reproduce s"):
        readme_results.sync(readme, tmp_path / "missing.md", "s")
