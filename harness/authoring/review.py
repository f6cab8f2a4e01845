"""A static look at the claims, for Results Reproduced (which a smoke run does not decide).

* no claims at all;
* one-sided and comparative claims without a tolerance (the others cannot parse without);
* trials claims whose tolerance is tighter than docs/statistics.md's table recommends for the
  stated number of seeds and the deposited spread (the margin k x sd / sqrt(n) at which an
  honest claim passes with 80% / 95% probability, from ``tost_power``);
* claims the deposited data do not support: each claim is decided by its own test as if the
  reproduction had given exactly the deposited data: a trials claim on its ``per_seed``
  values, every other claim on the recorded counts of its circuits (with the ideal
  distribution computed here from the circuit file, as the agent does). A claim that fails
  on them will fail in ``qrepro evaluate`` with the pinned versions too.

Circuits whose counts are not trustworthy (a checksum or counts finding) are left out: the
finding about them comes first.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping
from typing import Any

from harness.authoring.todo import Todo, todo
from harness.claims import evaluate_claims, needs_ideal
from harness.claims.seed_checked import margin
from harness.intake.archive import Deposit
from harness.intake.manifest import Claim, ComparativeClaim, Manifest, OneSidedClaim, TrialsClaim
from harness.models import CircuitRun, ClaimResult, Execution, RunEnvironment
from harness.stats.compare import fmt
from harness.stats.tost import spread_to_sd, tost_power
from harness.stats.trials import compare_trials
from harness.tolerances import RelativeTolerance

#: the powers docs/statistics.md's table is computed for: below the first, an honest claim
#: fails more often than one time in five; the second is what the author should state
ENOUGH_POWER, RECOMMENDED_POWER = 0.80, 0.95


def review_claims(deposit: Deposit, m: Manifest, recorded: Mapping[str, dict[str, int]],
                  untrusted: set[str]) -> list[Todo | None]:
    """Every to-do the claims call for (see the module docstring)."""
    if not m.claims:
        return [no_claims()]
    dry = _dry_run(deposit, m, {k: v for k, v in recorded.items() if k not in untrusted})
    out: list[Todo | None] = []
    for i, c in enumerate(m.claims):
        where = f"claims[{i}]"
        out += [_missing_tolerance(c, where), _tight_tolerance(c, where, m)]
        verdict = _trials_on_per_seed(c) if isinstance(c, TrialsClaim) else dry.get(c.id)
        out.append(_verdict_todo(c, where, verdict))
    return out


def no_claims() -> Todo | None:
    return todo("no-claims", ("reproduced",), field="claims", file="qdata.yaml")


def _verdict_todo(c: Claim, where: str, r: ClaimResult | None) -> Todo | None:
    if r is None or r.verdict in ("pass", "error"):
        return None
    evidence = r.comparison.evidence if r.comparison is not None else r.message
    code = "claim-unsupported" if r.verdict == "fail" else "claim-undecided"
    field = f"{where}.value" if "value" in type(c).model_fields else where
    return todo(code, ("reproduced",), field=field, file="qdata.yaml", claim=c.id,
                message=evidence)


def _missing_tolerance(c: Claim, where: str) -> Todo | None:
    # the kinds whose tolerance is optional (the others cannot parse without)
    if not isinstance(c, OneSidedClaim | ComparativeClaim) or c.tolerance is not None:
        return None
    return todo("tolerance-missing", field=f"{where}.tolerance", file="qdata.yaml", claim=c.id,
                message="without one the bare value or order is tested: a margin says how "
                "much seed-to-seed noise the claim allows")


# --- tolerances ------------------------------------------------------------------------


def _seed_sd(c: TrialsClaim) -> float | None:
    if c.per_seed is not None and len(c.per_seed) >= 2:
        return statistics.stdev(c.per_seed)
    return spread_to_sd(c.spread) if c.spread is not None else None


def _seed_count(c: TrialsClaim, m: Manifest) -> int:
    kind, ref = c.source.kind_and_id()
    seeds = (m.circuit(ref).seeds if kind == "circuit"
             else next(nb.seeds for nb in m.notebooks if nb.id == ref))
    return len(seeds) or (c.spread.n if c.spread else len(c.per_seed or []))


def margin_for_power(sd: float, n: int, power: float) -> float:
    """The smallest margin at which the TOST over n seeds passes an honest claim (true mean =
    claim, seed-to-seed sd) with this probability: k(n) x sd / sqrt(n), as tabulated in
    docs/statistics.md (Choosing a tolerance)."""
    from scipy.optimize import brentq

    high = 40.0 * sd / math.sqrt(n)
    return float(brentq(lambda m: tost_power(sd, n, m) - power, 1e-6 * sd, high, xtol=1e-5 * sd))


def _round_up(value: float, step: float | None) -> float:
    """Up to whole steps, else to two significant digits."""
    if step is not None:
        return math.ceil(value / step - 1e-9) * step
    scale = 10.0 ** (math.floor(math.log10(value)) - 1)
    return math.ceil(value / scale - 1e-9) * scale


def _tight_tolerance(c: Claim, where: str, m: Manifest) -> Todo | None:
    if not isinstance(c, TrialsClaim):
        return None
    sd, n = _seed_sd(c), _seed_count(c, m)
    if sd is None or sd <= 0 or n < 2 or tost_power(sd, n, margin(c)) >= ENOUGH_POWER:
        return None
    power = tost_power(sd, n, margin(c))
    low, high = (margin_for_power(sd, n, p) for p in (ENOUGH_POWER, RECOMMENDED_POWER))
    recommended = _round_up(high, c.step)
    shown = f"{recommended:.4g}"
    if isinstance(c.tolerance, RelativeTolerance):
        shown = f"{recommended / abs(c.value):.2g} (relative; {shown} absolute)"
    paired = c.per_seed is not None and len(c.per_seed) == n
    message = (f"with seed-to-seed sd {fmt(sd)} over {n} seeds, a margin of {fmt(margin(c))} "
               f"lets an honest claim pass with probability {power:.2f}; docs/statistics.md "
               f"(Choosing a tolerance) gives {fmt(low)} for 80% and {fmt(high)} for 95%")
    if paired:
        message += ("; the deposited per-seed values are tested paired, so identical "
                    "reproductions pass anyway, but other versions of the packages may not")
    return todo("tolerance-tight", () if paired else ("reproduced",),
                field=f"{where}.tolerance.value", file="qdata.yaml", claim=c.id,
                recommended=shown, message=message)


# --- the claims on the deposited data ---------------------------------------------------


def _trials_on_per_seed(c: TrialsClaim) -> ClaimResult | None:
    """The trials test as if the reproduction gave exactly the deposited per-seed values."""
    if not c.per_seed:
        return None
    comparison = compare_trials(c.per_seed, c.value, margin(c), c.per_seed, c.step,
                                test=c.test)
    return ClaimResult(id=c.id, kind="trials", source=c.source_label(), metric=c.metric,
                       verdict=comparison.verdict, comparison=comparison,
                       message=comparison.evidence)


def _dry_run(deposit: Deposit, m: Manifest,
             recorded: Mapping[str, dict[str, int]]) -> dict[str, ClaimResult]:
    """Each claim decided on the recorded counts, as if they had been reproduced."""
    runs = [_recorded_run(deposit, m, i, recorded[c.id])
            for i, c in enumerate(m.circuits) if c.id in recorded]
    execution = Execution(environment=RunEnvironment(runner="deposited data"),
                          circuits=tuple(r for r in runs if r is not None))
    results = evaluate_claims(m, execution, recorded)
    return {r.id: r for r in results}


def _recorded_run(deposit: Deposit, m: Manifest, index: int,
                  counts: dict[str, int]) -> CircuitRun | None:
    c = m.circuits[index]
    ideal = _ideal(deposit, m, index) if needs_ideal(m, c.id) else None
    if needs_ideal(m, c.id) and ideal is None:
        return None
    return CircuitRun(id=c.id, circuit=c.id, ok=True, counts=counts, ideal=ideal,
                      seed_simulator=c.seed_simulator, method=c.method, shots=c.shots)


def _ideal(deposit: Deposit, m: Manifest, index: int) -> dict[str, float] | None:
    """The circuit's ideal distribution, computed as the agent does; None when it cannot be
    (the smoke run reports why)."""
    from harness.jobs import check_includes, circuit_format
    from runners.agent.replay import ideal_distribution, load_circuit

    c = m.circuits[index]
    field = f"circuits[{index}].file"
    try:
        path = deposit.path(c.file, field=field)
        fmt_name = circuit_format(c, path)
        if fmt_name != "qpy":
            check_includes(path, c.file, field)
        ideal: Any = ideal_distribution(load_circuit(str(path), fmt_name))
    except Exception:  # DepositError, and qiskit's many kinds: the smoke run reports them
        return None
    return {str(k): float(v) for k, v in ideal.items()} if ideal is not None else None


def untrusted_circuits(m: Manifest, bad_files: Iterable[str]) -> set[str]:
    """Circuits whose counts or circuit file a finding says is not the inventoried one."""
    bad = set(bad_files)
    return {c.id for c in m.circuits if c.counts in bad or c.file in bad}
