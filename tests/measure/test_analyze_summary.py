"""The summary of an analysis table: FMN-versus-DeepFool ties are not wins."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from seqrobust.measure.analyze_summary import SHORTER_RTOL, read_table, summarize_tables

ROWS = Path(__file__).parents[1] / "golden" / "mnist" / "analyze" / "rows.csv"


def test_fmn_counts_as_shorter_only_beyond_float_noise():
    tab = read_table(ROWS)
    df = tab["deepfool_refined"]
    assert np.isfinite(tab["measured"]).all() and df.size == 6
    tab["fmn"] = df * np.array([1.0, 1 - SHORTER_RTOL / 100, 1 - 3 * SHORTER_RTOL, 0.9, 1.1,
                                1 + SHORTER_RTOL / 100])
    assert summarize_tables(tab)["fmn_better_than_deepfool"] == 2 / 6
