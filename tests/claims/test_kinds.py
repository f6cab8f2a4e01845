"""Claim kinds: the manifest shapes they accept (errors name the field) and their verdicts
through the whole pipeline (FakeRunner)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from harness.claims.registry import KINDS
from harness.errors import ManifestError
from harness.intake.manifest import OneSidedClaim, ScalarClaim, TrialsClaim, parse_manifest
from harness.models import CircuitJob, CircuitRun, NotebookJob, NotebookRun
from harness.pipeline import Options, evaluate
from runners.fake import FakeRunner
from tests.conftest import BASE_FILES, base_manifest

OPTIONS = Options(today=dt.date(2026, 11, 22))
IDEAL4 = {f"{i:04b}": (0.12 if i < 8 else 0.005) for i in range(16)}  # heavy: 0000..0111


def with_claims(*claims: dict[str, Any], circuits: list[dict[str, Any]] | None = None,
                notebooks: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    m = base_manifest()
    if circuits is not None:
        m["circuits"] = circuits
    if notebooks is not None:
        m["notebooks"] = notebooks
    m["claims"] = list(claims)
    return m


def qv_circuits(n: int) -> list[dict[str, Any]]:
    return [{"id": f"qv4_{i:03d}", "file": "circuits/ghz3.qasm", "shots": 1000,
             "seed_simulator": 100 + i} for i in range(n)]


NOTEBOOKS = [{"id": "quantum", "path": "nb.ipynb", "seeds": [1, 2, 3, 4, 5]},
             {"id": "classical", "path": "nb.ipynb", "seeds": [1, 2, 3, 4, 5]}]
NB_METRIC = {"metric": "notebook_metric", "name": "accuracy"}


def test_every_kind_is_registered_under_its_name() -> None:
    assert set(KINDS) == {"scalar", "counts", "trials", "aggregate", "one-sided",
                          "comparative", "quantum-volume"}
    assert all(k.name == name and k.summary for name, k in KINDS.items())


def test_kind_is_inferred_when_not_stated() -> None:
    m = parse_manifest(base_manifest())
    assert [c.kind for c in m.claims] == ["scalar", "counts"]


GOOD = [
    {"id": "mean-hop", "kind": "aggregate", "source": {"circuits": ["qv4_*"]},
     "metric": "heavy_output_probability", "statistic": "mean", "value": 0.7,
     "tolerance": {"kind": "absolute", "value": 0.02}},
    {"id": "qv", "kind": "quantum-volume", "source": {"circuits": ["qv4_*"]},
     "metric": "heavy_output_probability", "value": 16},
    {"id": "beats", "kind": "comparative", **NB_METRIC,
     "order": [{"notebook": "quantum"}, {"notebook": "classical"}]},
    {"id": "at-least", "kind": "one-sided", "source": {"notebook": "quantum"}, **NB_METRIC,
     "direction": "at_least", "value": 0.9, "tolerance": {"kind": "absolute", "value": 0.01}},
]


def test_new_kinds_parse() -> None:
    m = parse_manifest(with_claims(*GOOD, circuits=qv_circuits(3), notebooks=NOTEBOOKS))
    assert [c.kind for c in m.claims] == ["aggregate", "quantum-volume", "comparative",
                                          "one-sided"]


@pytest.mark.parametrize(("index", "change", "field", "words"), [
    (0, {"statistic": None}, "claims[0].statistic", "needs a statistic"),
    (0, {"source": {"circuits": ["nomatch*"]}}, "claims[0].source.circuits[0]", "no circuit"),
    (0, {"above": 0.5}, "claims[0].above", "fraction_above"),
    (0, {"direction": "at_least"}, "claims[0].direction", "does not apply"),
    (1, {"value": 12}, "claims[1].value", "power of two"),
    (1, {"metric": "hellinger_fidelity"}, "claims[1].metric", "heavy_output"),
    (1, {"tolerance": {"kind": "absolute", "value": 0.1}}, "claims[1].tolerance",
     "takes no tolerance"),
    (2, {"order": [{"notebook": "quantum"}, {"notebook": "quantum"}]}, "claims[2].order",
     "twice"),
    (2, {"order": [{"notebook": "quantum"}, {"notebook": "nope"}]},
     "claims[2].order[1].notebook", "unknown notebook"),
    (2, {"source": {"notebook": "quantum"}}, "claims[2].source", "in `order`"),
    (3, {"direction": None}, "claims[3].direction", "at_least or at_most"),
    (3, {"source": {"circuits": ["qv4_*"]}}, "claims[3].source.circuits", "one source"),
])
def test_shape_errors_name_the_field(index: int, change: dict[str, Any], field: str,
                                     words: str) -> None:
    claims = [dict(c) for c in GOOD]
    claims[index].update(change)
    claims[index] = {k: v for k, v in claims[index].items() if v is not None}
    with pytest.raises(ManifestError) as err:
        parse_manifest(with_claims(*claims, circuits=qv_circuits(3), notebooks=NOTEBOOKS))
    assert err.value.field == field and words in err.value.message


def test_threshold_is_not_a_trials_test() -> None:
    claim = {"id": "acc", "source": {"notebook": "quantum"}, **NB_METRIC, "value": 0.9,
             "tolerance": {"kind": "absolute", "value": 0.05}, "test": "threshold"}
    with pytest.raises(ManifestError, match="does not apply to a trials claim"):
        parse_manifest(with_claims(claim, notebooks=NOTEBOOKS))


# --- through the pipeline -------------------------------------------------------------


def hop_runner(hop_of: Callable[[int], float]) -> FakeRunner:
    """Circuit i gives heavy-output probability hop_of(i) (1000 shots)."""
    def handler(job: CircuitJob) -> CircuitRun:
        i = int(job.circuit.split("_")[1])
        heavy = round(1000 * hop_of(i))
        counts = {"0000": heavy, "1111": 1000 - heavy}
        return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=True,
                          counts=counts, ideal=IDEAL4,
                          seed_simulator=job.seed_simulator, method="statevector",
                          device="CPU", shots=1000)
    return FakeRunner(handler)


def qv_deposit(make_deposit: Callable[..., Path], value: float = 0.7) -> Path:
    claims = [dict(GOOD[0], value=value), GOOD[1]]
    return make_deposit(with_claims(*claims, circuits=qv_circuits(100)), BASE_FILES)


def test_qv_mean_reproduced_and_volume_denied(make_deposit: Callable[..., Path],
                                              tmp_path: Path) -> None:
    """Mean HOP about 0.70 over 100 circuits: the mean is reproduced, the two-sigma bound
    0.70 - 2 * 0.046 = 0.61 is below 2/3, so QV 16 is not."""
    runner = hop_runner(lambda i: 0.65 + 0.1 * ((i * 37) % 100) / 100)
    report = evaluate(qv_deposit(make_deposit), tmp_path / "out", runner, OPTIONS)
    mean, qv = report.claims
    assert (mean.kind, mean.verdict) == ("aggregate", "pass")
    assert mean.comparison is not None and mean.comparison.details["n"] == 100
    assert (qv.kind, qv.verdict) == ("quantum-volume", "fail")
    assert qv.comparison is not None and qv.comparison.details["bound"] < 2 / 3
    assert f"{qv.comparison.details['bound']:.4f}" in qv.message
    assert not report.badges.reproduced
    assert any("claim qv" in r and "bound" in r for r in report.badges.reasons["reproduced"])


def test_qv_met_when_heavy_outputs_dominate(make_deposit: Callable[..., Path],
                                            tmp_path: Path) -> None:
    runner = hop_runner(lambda i: 0.80 + 0.05 * ((i * 37) % 100) / 100)
    report = evaluate(qv_deposit(make_deposit, 0.825), tmp_path / "out", runner, OPTIONS)
    assert [c.verdict for c in report.claims] == ["pass", "pass"]


def nb_runner(table: dict[str, dict[int, float]]) -> FakeRunner:
    def handler(job: NotebookJob) -> NotebookRun:
        return NotebookRun(id=job.id, run=job.run, seed=job.seed, ok=True,
                           metrics={"accuracy": table[job.id].get(job.seed, 0.5)})
    return FakeRunner(lambda job: CircuitRun(id=job.id, ok=False, error="unused"),
                      notebook_handler=handler)


QUANTUM = {1: 0.92, 2: 0.94, 3: 0.93, 4: 0.95, 5: 0.92}
CLASSICAL = {1: 0.86, 2: 0.88, 3: 0.85, 4: 0.87, 5: 0.86}


def nb_deposit(make_deposit: Callable[..., Path], *claims: dict[str, Any]) -> Path:
    return make_deposit(with_claims(*claims, circuits=[], notebooks=NOTEBOOKS),
                        {**BASE_FILES, "nb.ipynb": "{}"})


@pytest.mark.parametrize(("order", "verdict"), [
    (["quantum", "classical"], "pass"), (["classical", "quantum"], "fail")])
def test_comparative_claim_paired_by_seed(make_deposit: Callable[..., Path], tmp_path: Path,
                                          order: list[str], verdict: str) -> None:
    claim = dict(GOOD[2], order=[{"notebook": o} for o in order])
    report = evaluate(nb_deposit(make_deposit, claim), tmp_path / "out",
                      nb_runner({"quantum": QUANTUM, "classical": CLASSICAL}), OPTIONS)
    c = report.claims[0]
    assert c.verdict == verdict and c.source == " > ".join(f"notebook:{o}" for o in order)
    assert "paired over 5 seeds" in c.message
    assert report.badges.reproduced == (verdict == "pass")


@pytest.mark.parametrize(("value", "verdict"), [(0.90, "pass"), (0.97, "fail"),
                                                (0.935, "inconclusive")])
def test_one_sided_claim(make_deposit: Callable[..., Path], tmp_path: Path, value: float,
                         verdict: str) -> None:
    claim = dict(GOOD[3], value=value, tolerance={"kind": "absolute", "value": 0.0})
    report = evaluate(nb_deposit(make_deposit, claim), tmp_path / "out",
                      nb_runner({"quantum": QUANTUM, "classical": CLASSICAL}), OPTIONS)
    assert report.claims[0].verdict == verdict
    assert report.badges.reproduced == (verdict == "pass")


def test_aggregate_over_notebook_seeds(make_deposit: Callable[..., Path], tmp_path: Path
                                       ) -> None:
    claim = {"id": "frac", "kind": "aggregate", "source": {"notebook": "quantum"}, **NB_METRIC,
             "statistic": "fraction_above", "above": 0.93, "value": 0.4,
             "tolerance": {"kind": "absolute", "value": 0.5}}
    report = evaluate(nb_deposit(make_deposit, claim), tmp_path / "out",
                      nb_runner({"quantum": QUANTUM, "classical": CLASSICAL}), OPTIONS)
    c = report.claims[0]
    assert c.comparison is not None and c.comparison.observed == pytest.approx(0.4)
    assert "over 5 seeds" in c.message


def test_correlated_trial_seeds_are_one_trial(make_deposit: Callable[..., Path],
                                              tmp_path: Path) -> None:
    """Seeds 11..15 under a noisy statevector share shots: their near-identical values are
    no seed-to-seed variance but one trial. Its se is the shot-noise sd of one run, or, with
    fresh seeds, their sd (here wide: inconclusive)."""
    m = base_manifest()
    m["circuits"][0]["seeds"] = [11, 12, 13, 14, 15]
    m["claims"] = [{"id": "fid", "source": {"circuit": "ghz3"}, "metric": "success_probability",
                    "outcomes": ["000", "111"], "value": 0.95,
                    "spread": {"kind": "sd", "value": 0.001, "n": 5},
                    "tolerance": {"kind": "absolute", "value": 0.03}}]

    def handler(job: CircuitJob) -> CircuitRun:
        seed = job.seed_simulator or 0
        good = round(1000 * (0.951 + 0.0002 * (seed - 11) if seed < 100
                             else 0.93 + 0.01 * (seed % 7)))
        return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=True,
                          counts={"000": good, "010": 1000 - good},
                          ideal={"000": 0.5, "111": 0.5}, seed_simulator=seed,
                          method="statevector", device="CPU", shots=1000)
    deposit = make_deposit(m, BASE_FILES)
    alone = evaluate(deposit, tmp_path / "a", FakeRunner(handler), OPTIONS).claims[0]
    assert alone.comparison is not None and alone.comparison.test == "tost-one-trial"
    assert "share shots" in alone.message and "shot-noise sd of one run" in alone.message
    # 0.951 +/- 1.645 * sqrt(0.95 * 0.05 / 1000): inside 0.95 +/- 0.03
    assert alone.verdict == "pass"
    assert alone.comparison.details["sd_one_trial"] == pytest.approx(0.0069, abs=0.001)
    fresh = evaluate(deposit, tmp_path / "b", FakeRunner(handler),
                     Options(today=OPTIONS.today, fresh_seeds=8)).claims[0]
    assert fresh.comparison is not None and fresh.comparison.test == "tost-one-trial"
    assert "sd of 8 fresh seeds" in fresh.message and fresh.verdict == "inconclusive"
    assert fresh.seed_check is not None and not fresh.seed_check.flagged


def test_sample_standard_errors() -> None:
    from harness.claims.values import Sample

    independent = Sample([0.90, 0.92, 0.94], [1, 2, 3])
    assert independent.mean_and_se()[2] == 2.0
    shared = Sample([0.90, 0.90, 0.91], [1, 2, 3], correlated=True, shot_se=0.01)
    assert shared.mean_and_se() == pytest.approx((0.9033333, 0.01, float("inf")))
    one_seed = Sample([0.9], [1])  # a notebook's single seed: no variance to go on
    assert one_seed.mean_and_se()[1] == float("inf")


def test_one_notebook_seed_cannot_show_an_order(make_deposit: Callable[..., Path],
                                                tmp_path: Path) -> None:
    notebooks = [dict(n, seeds=[1]) for n in NOTEBOOKS]
    m = with_claims(GOOD[2], circuits=[], notebooks=notebooks)
    report = evaluate(make_deposit(m, {**BASE_FILES, "nb.ipynb": "{}"}), tmp_path / "out",
                      nb_runner({"quantum": QUANTUM, "classical": CLASSICAL}), OPTIONS)
    assert report.claims[0].verdict == "inconclusive"


def test_seed_check_looks_in_the_flattering_direction() -> None:
    from harness.claims.seed_checked import higher_is_better

    m = parse_manifest(with_claims(
        {"id": "tvd", "source": {"circuit": "ghz3"}, "metric": "tvd_ideal", "value": 0.05,
         "tolerance": {"kind": "absolute", "value": 0.02}},
        {"id": "loss", "source": {"notebook": "quantum"}, **NB_METRIC, "name": "loss",
         "value": 0.3, "better": "lower", "tolerance": {"kind": "absolute", "value": 0.1}},
        GOOD[3], notebooks=NOTEBOOKS))
    claims = [c for c in m.claims if isinstance(c, ScalarClaim | TrialsClaim | OneSidedClaim)]
    assert [higher_is_better(c) for c in claims] == [False, False, True]


def test_claims_say_who_computed_their_values() -> None:
    """Circuit claims are qrepro's replay; a notebook's metric is the deposit's own code."""
    from harness.claims.base import computed_by
    from harness.intake.manifest import load_manifest
    from tests.conftest import DEPOSITS

    ghz = load_manifest(DEPOSITS / "ghz-noisy" / "qdata.yaml", "qdata.yaml")
    assert {computed_by(c) for c in ghz.claims} == {"replay"}
    vqc = load_manifest(DEPOSITS / "vqc-iris" / "qdata.yaml", "qdata.yaml")
    by = {c.id: computed_by(c) for c in vqc.claims}
    notebook = [c.id for c in vqc.claims if any(s.notebook for s in c.sources())]
    assert notebook and all(by[i] == "deposit-code" for i in notebook)
