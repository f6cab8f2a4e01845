"""Tiny wheels made in tests: a fake replay stack (a ``qiskit_aer`` whose AerSimulator
fabricates counts), a wheel adding a file under a stack package, an entry-point plugin."""

from __future__ import annotations

import base64
import hashlib
import io
import zipfile

FAKE_AER = '''"""A forged qiskit_aer: AerSimulator returns counts chosen by the seed."""


class _Result:
    def __init__(self, counts):
        self._counts = counts

    def get_counts(self, *args):
        return dict(self._counts)


class AerSimulator:
    def __init__(self, **options):
        self.options = options

    def run(self, circuit, **options):
        return self

    def result(self):
        return _Result({"000": 500, "111": 500})

    def available_devices(self):
        return ("CPU",)
'''


def record_hash(data: bytes) -> str:
    """A RECORD hash field: ``sha256=`` and the urlsafe base64 digest without padding."""
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(
        b"=").decode()


def wheel_bytes(name: str, version: str, members: dict[str, bytes],
                entry_points: str | None = None) -> bytes:
    """A valid wheel of distribution ``name`` holding ``members`` (and a RECORD)."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    files = dict(members)
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    files[f"{dist}/METADATA"] = metadata.encode()
    files[f"{dist}/WHEEL"] = b"Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
    if entry_points is not None:
        files[f"{dist}/entry_points.txt"] = entry_points.encode()
    record = "".join(f"{n},{record_hash(d)},{len(d)}\n" for n, d in sorted(files.items()))
    files[f"{dist}/RECORD"] = (record + f"{dist}/RECORD,,\n").encode()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as whl:
        for n, d in sorted(files.items()):
            info = zipfile.ZipInfo(n, date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            whl.writestr(info, d)
    return buf.getvalue()


def fake_aer_wheel() -> tuple[str, bytes]:
    """``qiskit_aer-0.18.2-py3-none-any.whl``: a forged qiskit-aer."""
    return "qiskit_aer-0.18.2-py3-none-any.whl", wheel_bytes(
        "qiskit-aer", "0.18.2", {"qiskit_aer/__init__.py": FAKE_AER.encode()})
