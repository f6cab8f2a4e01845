"""What every agent process does first (standard library only; runs inside the environment).

* :func:`add_site_dirs`: the processes start with ``python -E -s -S``, so no ``.pth`` file or
  ``sitecustomize`` of the environment runs in them; this adds the environment's
  site-packages to ``sys.path`` by hand, found as ``site.py`` would (``pyvenv.cfg``).
* :func:`harden`: non-dumpable, so another process of the same user (a notebook's kernel)
  can neither ptrace this one nor open its descriptors through ``/proc/<pid>/fd``.
* :func:`open_result`: the result channel, taken before anything of the deposit runs and
  never inherited by a child: ``fd:N`` (a descriptor the parent handed over), ``-`` (this
  process's stdout; anything else printed goes to stderr) or a file path (tests).
"""

from __future__ import annotations

import ctypes
import os
import sys
from typing import IO

PR_SET_DUMPABLE = 4


def site_dirs() -> list[str]:
    import sysconfig

    exe_dir = os.path.dirname(sys.executable)
    for cfg in (os.path.join(exe_dir, "pyvenv.cfg"),
                os.path.join(os.path.dirname(exe_dir), "pyvenv.cfg")):
        if not os.path.isfile(cfg):
            continue
        prefix = os.path.dirname(cfg)
        with open(cfg, encoding="utf-8") as fh:
            conf = {k.strip().lower(): v.strip() for k, _, v in
                    (line.partition("=") for line in fh) if v}
        version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
        dirs = [os.path.join(prefix, lib, version, "site-packages") for lib in ("lib", "lib64")
                if os.path.isdir(os.path.join(prefix, lib, version, "site-packages"))]
        if conf.get("include-system-site-packages", "false").lower() == "true":
            dirs += [sysconfig.get_path(k) for k in ("purelib", "platlib")]
        sys.prefix = sys.exec_prefix = prefix
        return dirs
    return [sysconfig.get_path(k) for k in ("purelib", "platlib")]


def add_site_dirs() -> None:
    if sys.flags.no_site:
        for path in site_dirs():
            if path not in sys.path:
                sys.path.append(path)


def harden() -> None:
    try:
        ctypes.CDLL(None).prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def open_result(target: str) -> IO[str]:
    if target.startswith("fd:"):
        fd = int(target[3:])
    elif target == "-":
        fd = os.dup(1)
        os.dup2(2, 1)
    else:
        return open(target, "w", encoding="utf-8")
    os.set_inheritable(fd, False)
    return os.fdopen(fd, "w", encoding="utf-8")
