"""The package's layers import one way only (``seqrobust/__init__.py`` states the order): no
module imports a package above its own, or a sibling in its layer, at module level or inside a
function."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[1] / "src" / "seqrobust"
LAYERS = [
    {"types", "seeds", "_checks", "_safeio"},
    {"data", "models"},
    {"geometry"},
    {"attacks", "bounds", "regularizers"},
    {"measure", "training", "reporting"},
    {"runs"},
    {"studies"},
    {"cli"},
]
ALLOWED = {("regularizers", "attacks")}
"""Same-layer imports that are part of the design: PGD adversarial training uses the attacks."""


def _layer(part: str) -> int:
    return next(i for i, names in enumerate(LAYERS) if part in names)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(
                "seqrobust."):
            found.add(node.module.split(".")[1])
        elif isinstance(node, ast.Import):
            found |= {a.name.split(".")[1] for a in node.names
                      if a.name.startswith("seqrobust.")}
    return found


def test_every_top_level_module_has_a_layer() -> None:
    parts = {p.relative_to(PACKAGE).parts[0].removesuffix(".py")
             for p in PACKAGE.rglob("*.py")} - {"__init__", "__main__"}
    assert parts <= set().union(*LAYERS), parts - set().union(*LAYERS)


def test_imports_go_downwards_only() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        rel = path.relative_to(PACKAGE)
        own = rel.parts[0].removesuffix(".py")
        if own in ("__init__", "__main__"):
            continue
        for other in _imports(path) - {own}:
            if other in ("__init__",):
                continue
            up = _layer(other) > _layer(own)
            sibling = _layer(other) == _layer(own) and (own, other) not in ALLOWED
            if up or sibling:
                wrong.append(f"{rel} imports seqrobust.{other}")
    assert not wrong, "\n".join(wrong)
