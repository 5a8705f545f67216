"""The architecture study's second pass (seeds 1 and 2), scheduled per unit or per model.

Replays the committed records: each final model of seeds 1-2 costs what its seed-0 twin (same
dataset, architecture and mode) cost in CPU seconds, and ``W`` workers take tasks in the
runner's order, each the next one as soon as it is free (``ProcessPoolExecutor``'s FIFO
queue). A task is either a whole (dataset, architecture) unit, its 8 further models in a row
(the runner before session 12), or one final model (now: ``run_architectures``). Prints the
makespan of each (hours of wall time if every worker has a core of its own) and their ratio,
for several ``W``; it runs nothing but this arithmetic.

Usage: python benchmarks/bench_study_schedule.py [--records DIR] [--out [PATH]]
"""

from __future__ import annotations

import argparse
import heapq
import json
from pathlib import Path

from seqrobust.studies.architectures import ArchitecturesConfig

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_RECORDS = ROOT / "docs" / "results" / "architectures" / "records"
DEFAULT_OUT = ROOT / "benchmarks" / "results" / "study_schedule.json"


def makespan(costs: list[float], workers: int) -> float:
    """Seconds until ``workers`` workers, each taking the next task when free, finish."""
    free = [0.0] * workers
    for c in costs:
        heapq.heappush(free, heapq.heappop(free) + c)
    return max(free)


def seed0_costs(records: Path) -> dict[tuple[str, str, str], float]:
    """CPU seconds of every seed-0 final model, by (dataset, arch, mode)."""
    found = {}
    for p in records.glob("*/*/*-s0.json"):
        if p.name.startswith("select-"):
            continue
        record = json.loads(p.read_text())
        row = record["row"]
        found[row["dataset"], row["arch"], row["mode"]] = float(record["cpu_seconds"])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=Path, default=DEFAULT_RECORDS)
    parser.add_argument("--out", nargs="?", const=DEFAULT_OUT, type=Path, default=None)
    args = parser.parse_args()
    cfg = ArchitecturesConfig()
    cost = seed0_costs(args.records)
    modes = [m.name for m in cfg.modes]
    per_model, per_unit = [], []
    for dataset, arch in cfg.units():
        seeds = cfg.plan(dataset).seeds[1:]
        models = [cost[dataset, arch, m] for _ in seeds for m in modes
                  if (dataset, arch, m) in cost]
        per_model += models
        if models:
            per_unit.append(sum(models))
    total = sum(per_model)
    print(f"second pass: {len(per_model)} models in {len(per_unit)} units, "
          f"{total / 3600:.1f} CPU-hours (seed-0 costs, {args.records})")
    print(f"{'workers':>7} | {'per unit (h)':>12} | {'per model (h)':>13} | {'ideal (h)':>9} | "
          "per unit / per model")
    rows = []
    for w in (2, 4, 8, 16, 32):
        unit, model = makespan(per_unit, w), makespan(per_model, w)
        rows.append({"workers": w, "per_unit_h": unit / 3600, "per_model_h": model / 3600,
                     "ideal_h": total / w / 3600, "ratio": unit / model})
        print(f"{w:>7} | {unit / 3600:>12.2f} | {model / 3600:>13.2f} | "
              f"{total / w / 3600:>9.2f} | {unit / model:.2f}x")
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps({"models": len(per_model), "units": len(per_unit),
                                        "cpu_hours": total / 3600, "rows": rows}, indent=1)
                            + "\n")
        print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
