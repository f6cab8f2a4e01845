"""The environment a deposit asks for, as plain data, and its digest.

Built from the manifest's ``environment`` section (plus the device and the agent), it is
what both the Docker runner (rendered to a Dockerfile) and the local runner (a uv venv)
install. Same spec -> same digest -> the cached image or venv is reused.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.intake.manifest import Environment
from runners.base import AGENT_DIR
from runners.wheelhouse import Artifact, Target

AGENT_FILES = ("replay.py", "channel.py", "aer_noise.py", "notebooks.py", "nb_worker.py",
               "exits.py", "stack.py")
_AER = re.compile(r"^qiskit[-_.]aer(?=\s*(\[|==|$))", re.IGNORECASE)


@dataclass(frozen=True)
class EnvSpec:
    python: str
    requirements: tuple[str, ...]
    system_packages: tuple[str, ...] = ()
    lock: str | None = None
    gpu: bool = False
    #: vendored wheels: (file name, sha256); the files come from the deposit
    wheels: tuple[tuple[str, str], ...] = ()
    #: the resolved set (runners/wheelhouse.py): every file with the index's sha256, so a
    #: changed index artifact is a new environment; empty until resolved
    artifacts: tuple[Artifact, ...] = ()

    @property
    def python_minor(self) -> str:
        return ".".join(self.python.split(".")[:2])

    def install_requirements(self) -> tuple[str, ...]:
        """The requirements to install: qiskit-aer becomes qiskit-aer-gpu on GPU."""
        if not self.gpu:
            return self.requirements
        return tuple(_AER.sub("qiskit-aer-gpu", r) for r in self.requirements)

    def resolve_input(self) -> tuple[str, ...]:
        """What is resolved: the lock file's lines if any, else the requirements (GPU-swapped)."""
        if self.lock is not None:
            return tuple(self.lock.splitlines())
        return self.install_requirements()

    def stack_artifacts(self) -> dict[str, Artifact]:
        """canonical name -> resolved artifact, for the replay stack's distributions."""
        from harness.intake.replay_stack import STACK

        return {a.name: a for a in self.artifacts if a.name in STACK}


def agent_digest() -> str:
    """Digest of the in-environment agent's files: a changed agent means a new image."""
    h = hashlib.sha256()
    for name in AGENT_FILES:
        h.update(name.encode() + b"\0" + (AGENT_DIR / name).read_bytes())
    return h.hexdigest()


#: in every environment's digest: its packages are installed with their bytecode compiled
#: (environments built before were not, and are built again)
BYTECODE = "bytecode-compiled"


def spec_digest(spec: EnvSpec, *extra: str) -> str:
    """sha256 over the spec, the agent and anything else the environment depends on."""
    payload = json.dumps(
        {"spec": asdict(spec), "agent": agent_digest(), "extra": list(extra)}, sort_keys=True
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def spec_from_environment(environment: Environment, root: Path, gpu: bool) -> EnvSpec:
    """The spec of a manifest's environment section, reading lock file and wheels from root."""
    from harness.units import file_sha256

    lock = (root / environment.lock_file).read_text(encoding="utf-8") \
        if environment.lock_file else None
    wheels = tuple((Path(w).name, file_sha256(root / w)) for w in environment.wheels)
    return EnvSpec(python=environment.python, requirements=tuple(environment.requirements),
                   system_packages=tuple(environment.system_packages), lock=lock, gpu=gpu,
                   wheels=wheels)


def resolve_spec(spec: EnvSpec, target: Target, wheels: list[Path], run: Any,
                 timeout_s: float) -> EnvSpec:
    """``spec`` with its artifacts: resolved on the host with the index's hashes (uv pip
    compile, through ``run``: runners.venv.run_uv; nothing of a package runs). The vendored
    wheels join the set by their hash."""
    from dataclasses import replace

    from runners.wheelhouse import resolve

    return replace(spec, artifacts=resolve(run, spec.resolve_input(), wheels, target,
                                           timeout_s))
