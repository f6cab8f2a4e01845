"""Deposits at the manifest's limits go through the pipeline (FakeRunner) to a report of
bounded size: counts over 2^20 outcomes (a smaller version in make test), 10 000 claims.
No timing assertions: make bench's outcomes-2^20 and claims-10k time them."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import yaml

from harness.models import CircuitJob, CircuitRun
from harness.pipeline import Options, evaluate
from reports.html_report import MAX_CLAIM_ROWS
from runners.fake import FakeRunner
from tests.conftest import BASE_FILES, COUNTS, base_manifest

OPTIONS = Options(today=dt.date(2026, 11, 22))
HTML_LIMIT = 5 * 1024 * 1024


def _answer(counts: dict[str, int], ideal: dict[str, float] | None
            ) -> Callable[[CircuitJob], CircuitRun]:
    def handler(job: CircuitJob) -> CircuitRun:
        return CircuitRun(id=job.id, circuit=job.circuit, role=job.role, ok=True,
                          counts=counts, ideal=ideal if job.ideal else None,
                          seed_simulator=job.seed_simulator, method="statevector",
                          device="CPU", shots=job.shots)
    return handler


def _many_outcomes(make_deposit: Callable[..., Path], tmp_path: Path, bits: int) -> None:
    """Recorded: every one of 2^bits outcomes once; reproduced: 2^bits shots drawn uniformly
    (a different sample, so that every counts test runs in full)."""
    n = 1 << bits
    keys = [format(i, f"0{bits}b") for i in range(n)]
    draw = np.random.default_rng(1).multinomial(n, np.full(n, 1.0 / n))
    reproduced = {keys[i]: int(draw[i]) for i in np.flatnonzero(draw)}
    m = base_manifest()
    m["noise_models"] = []
    m["circuits"] = [{"id": "wide", "file": "circuits/wide.qasm", "shots": n,
                      "seed_simulator": 11, "counts": "results/wide.json"}]
    source = {"circuit": "wide"}
    shot_noise = {"kind": "shot-noise", "alpha": 0.01}
    m["claims"] = [
        {"id": "tvd", "source": source, "metric": "counts", "tolerance": shot_noise},
        {"id": "infidelity", "source": source, "metric": "counts", "tolerance": shot_noise,
         "test": "permutation-infidelity"},
        {"id": "chi2", "source": source, "metric": "counts", "tolerance": shot_noise,
         "test": "chi-square"},
        {"id": "fidelity", "source": source, "metric": "hellinger_fidelity", "value": 0.6,
         "tolerance": {"kind": "absolute", "value": 0.05}},
    ]
    qasm = (f'OPENQASM 2.0;\ninclude "qelib1.inc";\nqreg q[{bits}];\ncreg c[{bits}];\n'
            "h q;\nmeasure q -> c;\n")
    root = make_deposit(m, {"circuits/wide.qasm": qasm,
                            "results/wide.json": json.dumps(dict.fromkeys(keys, 1))})
    ideal = dict.fromkeys(keys, 1.0 / n)
    report = evaluate(root, tmp_path / "out", FakeRunner(_answer(reproduced, ideal)), OPTIONS)
    assert report.status == "complete"
    by_id = {c.id: c for c in report.claims}
    assert {c.verdict for c in report.claims} <= {"pass", "fail"}
    for name in ("tvd", "infidelity"):
        cmp = by_id[name].comparison
        assert cmp is not None and cmp.test.startswith("permutation-")
        assert cmp.details["outcomes"] == n  # every outcome: the recorded counts have each
        assert 199 <= cmp.details["n_boot"] <= 2000
    assert by_id["fidelity"].comparison is not None
    assert by_id["fidelity"].comparison.observed == pytest.approx(
        (sum(np.sqrt(c / n * 1.0 / n) for c in reproduced.values())) ** 2)
    assert (tmp_path / "out" / "report.html").stat().st_size < HTML_LIMIT


def test_counts_over_2_to_the_16_outcomes_are_compared(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    _many_outcomes(make_deposit, tmp_path, 16)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_counts_over_2_to_the_20_outcomes_are_compared(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    _many_outcomes(make_deposit, tmp_path, 20)


CHEAP = (
    {"metric": "tvd_ideal", "value": 0.05, "tolerance": {"kind": "absolute", "value": 0.05}},
    {"metric": "counts", "tolerance": {"kind": "shot-noise"}},
    {"metric": "tvd_ideal", "value": 0.5,  # fails: the TVD is 0.05
     "tolerance": {"kind": "absolute", "value": 0.05}},
)


def test_ten_thousand_claims_keep_report_html_to_a_page(
        make_deposit: Callable[..., Path], tmp_path: Path) -> None:
    m = base_manifest()
    # copies: YAML would write shared dicts as aliases, and the manifest allows 100
    m["claims"] = [copy.deepcopy({"id": f"c{i:05d}", "source": {"circuit": "ghz3"},
                                  **CHEAP[i % len(CHEAP)]}) for i in range(10_000)]
    root = make_deposit(m, dict(BASE_FILES))
    # in flow style, one line: 10 000 claims fit the manifest's 1 MiB
    manifest = yaml.safe_load((root / "qdata.yaml").read_text())
    (root / "qdata.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False,
                                                    default_flow_style=True, width=10**9))
    report = evaluate(root, tmp_path / "out",
                      FakeRunner(_answer(dict(COUNTS), {"000": 0.5, "111": 0.5})), OPTIONS)
    assert report.status == "complete", report.error
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    assert [c["id"] for c in data["claims"]] == [c["id"] for c in m["claims"]]
    html = (tmp_path / "out" / "report.html").read_text()
    assert len(html.encode()) < HTML_LIMIT
    failed = sum(c.verdict != "pass" for c in report.claims)
    assert failed == 3333
    # the table shows the claims that did not pass first, and says how many more there are
    assert f"the {10_000 - MAX_CLAIM_ROWS} more are in report.json" in html
    assert html.count('<tr id="claim-') == MAX_CLAIM_ROWS
    assert "c00002" in html and "c00000" not in html  # a failure shown, a pass left out
    assert "more in report.json" in html  # the forest plots are bounded too
