"""How many circuits run at once, and with how many Aer threads (harness.jobs.parallelism)."""

from __future__ import annotations

from harness.jobs import AER_PARALLEL_WIDTH, parallelism
from harness.memory_plan import Limits, make_plan
from harness.models import CircuitMemory, MemoryPlan

GiB = 2**30


def plan(widths: list[int], each: int = GiB // 2, limit: int | None = 8 * GiB) -> MemoryPlan:
    circuits = [CircuitMemory(circuit=f"c{i}", file=f"c{i}.qasm", qubits=n, method="statevector",
                              estimated_as="statevector", state_bytes=each - 1, bytes=each,
                              basis="test") for i, n in enumerate(widths)]
    return make_plan(circuits, Limits(runner=limit, runner_source="--memory 8g"))


def test_default_is_one_circuit_per_core_with_one_thread_each() -> None:
    p = parallelism(None, 2, 20, plan([4] * 20), "auto")
    assert (p.circuit_jobs, p.aer_threads) == (2, 1)
    assert "2 cores" in p.why
    p = parallelism(None, 8, 20, plan([4] * 20), "auto")
    assert (p.circuit_jobs, p.aer_threads) == (8, 1)


def test_jobs_split_the_cores_and_never_exceed_the_circuits() -> None:
    p = parallelism(2, 8, 20, plan([4] * 20), "CPU")
    assert (p.circuit_jobs, p.aer_threads) == (2, 4)
    p = parallelism(None, 16, 3, plan([4] * 3), "auto")
    assert (p.circuit_jobs, p.aer_threads) == (3, 5)


def test_one_at_a_time_for_one_circuit_a_gpu_or_jobs_1() -> None:
    assert parallelism(None, 8, 1, plan([4]), "auto").circuit_jobs == 1
    gpu = parallelism(None, 8, 20, plan([4] * 20), "GPU")
    assert (gpu.circuit_jobs, gpu.aer_threads) == (1, None) and "GPU" in gpu.why
    one = parallelism(1, 8, 20, plan([4] * 20), "auto")
    assert (one.circuit_jobs, one.aer_threads) == (1, None)  # Aer's own default: all cores


def test_wide_circuits_are_left_to_aers_own_parallelism_unless_asked() -> None:
    wide = plan([4, AER_PARALLEL_WIDTH])
    p = parallelism(None, 8, 2, wide, "auto")
    assert (p.circuit_jobs, p.aer_threads) == (1, None)
    assert f"{AER_PARALLEL_WIDTH} qubits" in p.why
    assert parallelism(2, 8, 2, wide, "auto").circuit_jobs == 2  # --jobs 2 is obeyed


def test_memory_lowers_the_jobs_to_the_copies_that_fit() -> None:
    p = parallelism(None, 8, 20, plan([10] * 20, each=3 * GiB, limit=8 * GiB), "auto")
    assert (p.circuit_jobs, p.aer_threads) == (2, 4)
    assert "lowered to 2" in p.why and "--memory 8g" in p.why
    p = parallelism(4, 8, 20, plan([10] * 20, each=5 * GiB, limit=8 * GiB), "auto")
    assert (p.circuit_jobs, p.aer_threads) == (1, None)


def test_no_plan_no_limit() -> None:
    assert parallelism(None, 4, 10, None, "auto").circuit_jobs == 4
    assert parallelism(None, 4, 10, plan([3] * 10, limit=None), "auto").circuit_jobs == 4
