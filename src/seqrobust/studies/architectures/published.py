"""Published robustness figures on UCR data: Fawaz, Forestier, Weber, Idoumghar and Muller,
"Adversarial attacks on deep neural networks for time series classification", IJCNN 2019
(results table ``results/all-results.csv`` of their repository hfawaz/ijcnn19attacks).

Their protocol: the UCR 2015 archive as distributed (each series z-normalised), L∞ ε = 0.1 in
those units, unclipped; FGSM at ε = 0.1 and BIM with step 0.05 for 10 iterations.
Accuracies in percent: (clean, FGSM, BIM).
"""

from __future__ import annotations

SOURCE = "Fawaz et al., IJCNN 2019 (published)"
PUBLISHED: dict[str, dict[str, tuple[float, float, float]]] = {
    "ArrowHead": {"ResNet": (85.1, 33.1, 14.3), "FCN": (82.3, 41.7, 29.1)},
    "GunPoint": {"ResNet": (99.3, 31.3, 6.7), "FCN": (100.0, 62.0, 16.0)},
    "ItalyPowerDemand": {"ResNet": (95.9, 92.5, 91.6), "FCN": (96.1, 89.8, 89.6)},
    "OSULeaf": {"ResNet": (97.9, 15.7, 0.0), "FCN": (98.3, 17.4, 6.6)},
}
MEAN_85 = {"ResNet": (83.2, 40.0, 27.3), "FCN": (81.4, 43.2, 38.5)}
"""Their means over 85 datasets."""

__all__ = ["MEAN_85", "PUBLISHED", "SOURCE"]
