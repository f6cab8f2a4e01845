"""The Quantum Volume criterion of Cross et al., PRA 100, 032328 (2019) (pure, no I/O).

A device (here: a simulated noisy device) achieves quantum volume 2^m when its width-m,
depth-m model circuits give a mean heavy-output probability h above 2/3 with confidence:
h - 2 sigma > 2/3, sigma = sqrt(h (1 - h) / n_c) over the n_c circuits (Cross et al. ask for
at least 100). The criterion is met or not: a claimed volume whose circuits do not meet it
fails, with the computed bound in the evidence.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from harness.models import Comparison
from harness.wording import plural

THRESHOLD = 2 / 3
MIN_CIRCUITS = 100


def qv_criterion(hops: Sequence[float], volume: float) -> Comparison:
    # numpy and scipy (compare) only here: checking a volume (units.width_of) stays light
    import numpy as np

    from harness.stats.compare import error_comparison, fmt

    test = "quantum-volume"
    h = np.asarray(hops, dtype=float)
    if h.size == 0 or not np.all(np.isfinite(h)):
        return error_comparison(test, "no finite heavy-output probabilities to test")
    mean = float(h.mean())
    sigma = math.sqrt(mean * (1 - mean) / h.size)
    bound = mean - 2 * sigma
    ok = bound > THRESHOLD
    few = (f"; only {plural(h.size, 'circuit')} (Cross et al. ask for at least {MIN_CIRCUITS})"
           if h.size < MIN_CIRCUITS else "")
    verdict = (f"met: the bound is above 2/3, QV {volume:g} shown" if ok
               else f"not met: the bound is not above 2/3, QV {volume:g} is not shown")
    return Comparison(
        verdict="pass" if ok else "fail",
        test=test,
        observed=bound,
        claimed=THRESHOLD,
        difference=bound - THRESHOLD,
        statistic="mean HOP - 2 sigma",
        statistic_value=bound,
        threshold=THRESHOLD,
        evidence=f"mean heavy-output probability {fmt(mean)} over {plural(h.size, 'circuit')}, "
        f"sigma = sqrt(h(1-h)/{h.size}) = {fmt(sigma)}, two-sigma lower bound {fmt(bound)} "
        f"(Cross et al. 2019): {verdict}{few}",
        details={"mean_hop": mean, "sigma": sigma, "bound": bound, "circuits": int(h.size),
                 "volume": volume},
    )
