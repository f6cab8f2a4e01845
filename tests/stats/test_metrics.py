"""Known values of the count metrics (harness.stats.metrics)."""

from __future__ import annotations

import math

import pytest

from harness.errors import ComparisonError
from harness.stats.metrics import (
    METRICS,
    bind_metric,
    common_width,
    compute_metric,
    heavy_output_probability,
    heavy_outputs,
    hellinger_distance,
    hellinger_fidelity,
    normalise_counts,
    normalise_distribution,
    probabilities,
    success_probability,
    tvd,
)

# --- distances ------------------------------------------------------------------------


def test_identical_distributions() -> None:
    p = {"00": 0.1, "01": 0.2, "10": 0.3, "11": 0.4}
    assert hellinger_fidelity(p, p) == pytest.approx(1.0)
    assert hellinger_distance(p, p) == pytest.approx(0.0, abs=1e-7)
    assert tvd(p, p) == 0.0


def test_disjoint_distributions() -> None:
    p, q = {"00": 0.5, "01": 0.5}, {"10": 0.25, "11": 0.75}
    assert hellinger_fidelity(p, q) == 0.0
    assert hellinger_distance(p, q) == 1.0
    assert tvd(p, q) == 1.0


def test_hand_computed_case() -> None:
    p, q = {"0": 0.25, "1": 0.75}, {"0": 0.75, "1": 0.25}
    bc = 2 * math.sqrt(0.25 * 0.75)  # sqrt(3)/2
    assert hellinger_fidelity(p, q) == pytest.approx(0.75)
    assert hellinger_distance(p, q) == pytest.approx(math.sqrt(1 - bc))
    assert tvd(p, q) == pytest.approx(0.5)


def test_half_overlap() -> None:
    p, q = {"0": 0.5, "1": 0.5}, {"0": 1.0}
    assert hellinger_fidelity(p, q) == pytest.approx(0.5)
    assert tvd(p, q) == pytest.approx(0.5)


def test_counts_are_renormalised_like_qiskit() -> None:
    a, b = {"00": 480, "11": 520, "01": 24}, {"00": 510, "11": 490}
    ours = hellinger_fidelity(a, b)
    assert ours == pytest.approx(hellinger_fidelity(probabilities(a), probabilities(b)))
    quantum_info = pytest.importorskip("qiskit.quantum_info")
    assert ours == pytest.approx(quantum_info.hellinger_fidelity(a, b))


def test_probabilities() -> None:
    assert probabilities({"0": 1, "1": 3}) == {"0": 0.25, "1": 0.75}
    with pytest.raises(ComparisonError, match="no shots"):
        probabilities({"0": 0})


# --- heavy outputs and success --------------------------------------------------------


def test_heavy_output_probability_hand_case() -> None:
    # over all 4 outcomes: 0 ('11' missing), .1, .4, .5 -> median .25 -> heavy {01, 10}
    ideal = {"00": 0.1, "01": 0.4, "10": 0.5}
    assert heavy_outputs(ideal) == {"01", "10"}
    assert heavy_output_probability({"00": 10, "01": 30, "10": 60}, ideal) == pytest.approx(0.9)
    assert heavy_output_probability({"00": 10, "11": 30, "10": 60}, ideal) == pytest.approx(0.6)


def test_missing_outcomes_count_as_zero_in_the_median() -> None:
    ghz = {"000": 0.5, "111": 0.5}  # 6 of 8 outcomes have probability 0: median 0
    assert heavy_outputs(ghz) == {"000", "111"}
    assert heavy_output_probability({"000": 40, "111": 50, "010": 10}, ghz) == pytest.approx(0.9)


def test_heavy_is_strictly_above_the_median() -> None:
    uniform = {format(i, "02b"): 0.25 for i in range(4)}
    assert heavy_outputs(uniform) == frozenset()
    assert heavy_output_probability({"00": 5, "11": 5}, uniform) == 0.0


def test_heavy_outputs_with_explicit_width() -> None:
    # '0x1' alone would be one bit; five bits are 32 outcomes, median 0
    assert heavy_outputs({"0x1": 0.6, "0x0": 0.4}, num_bits=5) == {"00001", "00000"}


def test_success_probability() -> None:
    counts = {"0x0": 40, "0x3": 50, "0x1": 10}
    assert success_probability(counts, ["00", "11"]) == pytest.approx(0.9)
    assert success_probability({"0 1": 3, "1 1": 1}, ["11"]) == pytest.approx(0.25)


# --- key normalisation ----------------------------------------------------------------


def test_normalise_hex_keys() -> None:
    assert normalise_counts({"0x5": 3, "0x0": 2}, num_bits=4) == {"0101": 3, "0000": 2}
    assert normalise_counts({"0x5": 3, "0x0": 2}) == {"101": 3, "000": 2}


def test_normalise_register_spaces_and_merges() -> None:
    assert normalise_counts({"01 10": 3, "0110": 1, "1 000": 2}) == {"0110": 4, "1000": 2}


def test_hex_keys_take_the_width_of_binary_keys() -> None:
    assert normalise_counts({"0x1": 1, "0010": 2}) == {"0001": 1, "0010": 2}
    assert common_width({"0x1": 1}, {"0x1f": 1}) == 5
    assert normalise_distribution({"0x2": 0.5, "11": 0.5}) == {"10": 0.5, "11": 0.5}


@pytest.mark.parametrize(
    ("counts", "num_bits", "message"),
    [
        ({"01": 1, "011": 1}, None, "different lengths"),
        ({"0x1f": 1}, 3, "needs 5 bits"),
        ({"012": 1}, None, "not a hex or binary"),
        ({"0xzz": 1}, None, "not a hex or binary"),
        ({"": 1}, None, "not a hex or binary"),
        ({"01": -1}, None, "negative"),
    ],
)
def test_normalise_rejects(counts: dict[str, int], num_bits: int | None, message: str) -> None:
    with pytest.raises(ComparisonError, match=message):
        normalise_counts(counts, num_bits)


# --- the registry ---------------------------------------------------------------------


def test_registry_names() -> None:
    assert set(METRICS) == {
        "hellinger_fidelity",
        "tvd_ideal",
        "heavy_output_probability",
        "success_probability",
    }


def test_compute_metric_values() -> None:
    ideal = {"00": 0.5, "11": 0.5}
    counts = {"00": 45, "11": 45, "01": 10}
    assert compute_metric("hellinger_fidelity", counts, ideal) == pytest.approx(0.9)
    assert compute_metric("tvd_ideal", counts, ideal) == pytest.approx(0.1)
    assert compute_metric("heavy_output_probability", counts, ideal) == pytest.approx(0.9)
    assert compute_metric("success_probability", counts, outcomes=["01"]) == pytest.approx(0.1)


def test_compute_metric_accepts_hex_counts() -> None:
    ideal = {"000": 0.5, "111": 0.5}
    binary = {"000": 45, "111": 45, "001": 10}
    hexa = {"0x0": 45, "0x7": 45, "0x1": 10}
    for name in ("hellinger_fidelity", "tvd_ideal", "heavy_output_probability"):
        assert compute_metric(name, hexa, ideal) == compute_metric(name, binary, ideal)


def test_bound_metric_is_reusable() -> None:
    hop = bind_metric("heavy_output_probability", {"00": 0.1, "01": 0.4, "10": 0.5})
    assert hop({"01": 1, "10": 1}) == 1.0
    assert hop({"0x0": 1, "0x3": 1}) == 0.0


def test_unknown_metric_names_the_metric_and_the_choices() -> None:
    with pytest.raises(ComparisonError) as info:
        compute_metric("fidelity", {"0": 1}, {"0": 1.0})
    assert str(info.value) == (
        "metric 'fidelity' not found; available: heavy_output_probability, "
        "hellinger_fidelity, success_probability, tvd_ideal"
    )


@pytest.mark.parametrize("name", ["hellinger_fidelity", "tvd_ideal", "heavy_output_probability"])
def test_missing_ideal(name: str) -> None:
    with pytest.raises(ComparisonError, match=f"metric '{name}' needs the ideal distribution"):
        compute_metric(name, {"0": 1})


def test_missing_outcomes() -> None:
    with pytest.raises(ComparisonError, match="'success_probability' needs the outcomes"):
        compute_metric("success_probability", {"0": 1})


def test_mismatched_widths_between_counts_and_ideal() -> None:
    with pytest.raises(ComparisonError, match="different lengths"):
        compute_metric("hellinger_fidelity", {"00": 1}, {"000": 1.0})
