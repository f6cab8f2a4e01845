"""The anchor of the notebook figure of `make bench`: papermill alone, nothing else.

    python benchmarks/perf/bare_papermill.py DEPOSIT OUTDIR

Executes each notebook of the deposit once per recorded seed, plus its first seed a second
time (qrepro's default determinism check does the same), with the parameters qrepro
injects (seed, shots, device, noise_model_path, output_dir and the manifest's own), one
after another in this one process. No environment, sandbox, metrics or statistics.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import papermill
import yaml

AGENT = Path(__file__).resolve().parents[2] / "runners" / "agent"


def main(deposit: Path, out: Path) -> int:
    os.environ["PYTHONPATH"] = str(AGENT)  # the notebooks' `from aer_noise import ...`
    manifest = yaml.safe_load((deposit / "qdata.yaml").read_text(encoding="utf-8"))
    noise = {m["id"]: str(deposit / m["file"]) for m in manifest.get("noise_models") or []}
    runs = 0
    for nb in manifest.get("notebooks") or []:
        seeds = nb.get("seeds") or [0]
        for i, seed in enumerate([*seeds, seeds[0]]):
            out_dir = out / f"{nb['id']}-{i}"
            out_dir.mkdir(parents=True, exist_ok=True)
            papermill.execute_notebook(
                str(deposit / nb["path"]), str(out_dir / "executed.ipynb"),
                parameters={**(nb.get("parameters") or {}), "seed": seed,
                            "shots": nb.get("shots"), "device": "CPU",
                            "noise_model_path": noise.get(nb.get("noise_model") or ""),
                            "output_dir": str(out_dir)},
                kernel_name="python3", progress_bar=False, cwd=str(out_dir))
            runs += 1
    print(f"{runs} notebook executions")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
