"""Copy sections of a study's generated report into the README, between markers.

Usage: python scripts/readme_results.py architectures

For each ``<!-- STUDY: HEADING -->`` ... ``<!-- /STUDY -->`` block of README.md, the body of
section ``## HEADING`` of docs/results/STUDY/STUDY.md (its text up to the next ``## ``) replaces
what stands between the markers (links relative to the report made relative to the README),
so the README's figures are the report's, never retyped.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def section(report: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", report, re.S | re.M)
    if match is None:
        sys.exit(f"error: the report has no section '## {heading}'")
    return match.group(1).strip()


def relink(text: str, folder: str) -> str:
    """Links relative to the report (``](name.png)``) made relative to the README."""
    return re.sub(r"\]\(([^/:)]+)\)", rf"](docs/results/{folder}/\1)", text)


def sync(readme: Path, report: Path, study: str) -> int:
    """Copy the report's sections into ``readme`` (written atomically); the blocks copied."""
    pattern = re.compile(rf"(<!-- {study}: ([^\n]+?) -->\n).*?(<!-- /{study} -->)", re.S)
    if not report.is_file():
        sys.exit(f"error: no report {report}: run seqrobust reproduce {study} --report-only first")
    body = report.read_text()
    text, n = pattern.subn(
        lambda m: f"{m.group(1)}{relink(section(body, m.group(2)), study)}\n{m.group(3)}",
        readme.read_text())
    if not n:
        sys.exit(f"error: {readme.name} has no '<!-- {study}: HEADING -->' block")
    tmp = readme.with_suffix(".md.tmp")
    tmp.write_text(text)
    tmp.replace(readme)
    return n


if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "architectures"
    count = sync(ROOT / "README.md", ROOT / "docs" / "results" / name / f"{name}.md", name)
    print(f"README.md: {count} section(s) of docs/results/{name}/{name}.md copied")
