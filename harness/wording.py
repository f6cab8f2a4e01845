"""How reports say things: plurals, numbers as a person reads them, and the names of the
statistical tests (report.json keeps the test's id; every human format shows its name)."""

from __future__ import annotations

import math

#: test id (Comparison.test) -> what the test is
TEST_NAMES: dict[str, str] = {
    "threshold": "threshold on a distance",
    "exact": "exact equality",
    "shot-noise-z": "z-test against shot noise",
    "chi-square": "chi-square homogeneity test",
    "permutation-tvd": "permutation test on the total variation distance",
    "permutation-infidelity": "permutation test on the infidelity",
    "tost": "two one-sided t-tests (TOST)",
    "tost-paired": "paired two one-sided t-tests (TOST)",
    "tost-welch": "Welch two one-sided t-tests (TOST)",
    "tost-one-trial": "two one-sided tests on one trial (TOST, fresh-seed spread)",
    "bootstrap-ci": "bootstrap confidence interval",
    "one-sided-t": "one-sided t-test (non-inferiority)",
    "one-sided-z": "one-sided z-test (non-inferiority)",
    "aggregate-mean": "t interval on the mean over circuits or seeds",
    "aggregate-median": "bootstrap interval on the median",
    "aggregate-fraction": "Clopper-Pearson interval on a fraction",
    "comparative": "paired or Welch t-test between arms",
    "rank-order": "pairwise tests of a rank order (Bonferroni)",
    "quantum-volume": "heavy-output criterion of Cross et al. 2019",
}

#: nouns whose plural is not noun + "s"
_IRREGULAR = {"discrepancy": "discrepancies", "is": "are", "was": "were", "its": "their"}


def test_name(test: str | None) -> str:
    """The test's name as a person would write it (its id when unknown)."""
    if not test:
        return "-"
    return TEST_NAMES.get(test, test.replace("-", " "))


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``1 noise model``, ``2 noise models``, ``0 circuits``."""
    if n == 1:
        return f"{n} {noun}"
    if many is None:
        head, _, last = noun.rpartition(" ")
        many = (f"{head} " if head else "") + _IRREGULAR.get(last, last + "s")
    return f"{n} {many}"


def number(value: float | None, digits: int = 4) -> str:
    """A value as a report shows it: ``-`` when missing, 0 for rounding noise around zero
    (-1.11e-16 is 0), fixed digits, scientific only for values too small to show."""
    if value is None:
        return "-"
    if isinstance(value, float) and not math.isfinite(value):
        return "inf" if value > 0 else ("-inf" if value < 0 else "nan")
    if abs(value) < 1e-12:
        return "0"
    if abs(value) < 10**-digits:
        return f"{value:.2e}"
    return f"{value:.{digits}f}"
