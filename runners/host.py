"""What this machine has for simulations: available memory (psutil) and the smallest GPU's
memory (nvidia-smi). The memory planner and the batch's slots both ask here."""

from __future__ import annotations

import shutil
import subprocess

import psutil

MiB = 1024**2


def host_available() -> int:
    """Memory available to new processes, in bytes (MemAvailable on Linux)."""
    return int(psutil.virtual_memory().available)


def gpu_memory(timeout_s: float = 10.0) -> int | None:
    """Memory of the smallest NVIDIA GPU, from nvidia-smi (None: no answer)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, "--query-gpu=memory.total", "--format=csv,noheader,nounits"],
                             capture_output=True, text=True, timeout=timeout_s, check=True)
        sizes = [int(float(line)) * MiB for line in out.stdout.split() if line.strip()]
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return min(sizes) if sizes else None
