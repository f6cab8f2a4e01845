"""A circuit's width as the memory planner needs it, read from its file without Qiskit: the
qubits an OpenQASM 2 or 3 text declares and the ones its instructions touch (Aer drops idle
qubits), and the qubits a QPY file's header declares. Bounded and fast on hostile input;
tests/test_memory_plan_differential.py holds it against Qiskit's own loaders."""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

#: bytes of the OpenQASM text read for the width (jobs.MAX_QASM_SCAN's bound)
MAX_SCAN = 64 * 1024**2


@dataclass(frozen=True)
class CircuitShape:
    """What the planner reads of a circuit file."""

    #: qubits the instructions touch (a QPY file: its declared qubits)
    used: int
    #: qubits the circuit declares (what the agent's ideal distribution spans)
    declared: int
    #: only gates Aer's stabilizer method runs (False when unsure)
    clifford: bool
    how: str


#: the gates Aer's stabilizer method runs (what its automatic method looks for)
CLIFFORD = frozenset({"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "CX", "cy",
                      "cz", "swap", "ecr", "measure", "reset", "barrier", "delay"})
#: a slice longer than this counts as its whole register (no set of that many indices is built)
MAX_SLICE = 4096
_COMMENT = re.compile(r"//[^\n]*|/\*")
_VERSION = re.compile(r"\bOPENQASM\s+(\d+)")
_PREAMBLE = re.compile(r"\bOPENQASM\b[^;]*;|\binclude\s*\"[^\"]*\"\s*;")
_QREG = re.compile(r"\bqreg\s+([A-Za-z_]\w*)\s*\[\s*(\d+)\s*\]\s*;")
_QUBIT = re.compile(r"\bqubit\s*(?:\[([^\]]*)\])?\s+([A-Za-z_]\w*)\s*;")
_CONST = re.compile(r"\bconst\s+u?int\s*(?:\[\s*\d+\s*\])?\s+([A-Za-z_]\w*)\s*=\s*(\d+)\s*;")
#: per OpenQASM version: the classical declarations (their names are not instructions) and
#: the definitions (their bodies name parameters, not registers). OpenQASM 2 has none of the
#: version 3 keywords: there, ``int`` or ``cal`` can be a register's name.
_CLASSICAL = {
    2: re.compile(r"\bcreg\b[^;{}]*;"),
    3: re.compile(r"\b(?:creg|bit|output|input|const|uint|int|float|angle|bool|complex|"
                  r"duration|stretch|array)\b[^;{}]*;"),
}
_DEFINITION = {2: re.compile(r"\b(gate|opaque)\b"),
               3: re.compile(r"\b(gate|def|opaque|defcal|cal)\b")}
_BARRIER = re.compile(r"\bbarrier\b[^;]*;")
_REF = re.compile(r"([A-Za-z_]\w*)\s*(?:\[([^\]]*)\])?")
_PHYSICAL = re.compile(r"\$(\d+)")
_HEAD = re.compile(r"^\s*(?:if\s*\([^)]*\)\s*)?([A-Za-z_]\w*)")
_ASSIGNED_MEASURE = re.compile(r"^\s*[A-Za-z_]\w*\s*(?:\[[^\]]*\])?\s*=\s*measure\b")
_INT = re.compile(r"\s*(-?\d+)\s*")


def _strip_comments(text: str) -> str:
    """The text without ``//`` and ``/* */`` comments, in one pass (an unclosed ``/*`` runs
    to the end: no rescan per ``/*``)."""
    out: list[str] = []
    pos = 0
    while (m := _COMMENT.search(text, pos)) is not None:
        out.append(text[pos:m.start()])
        out.append(" ")
        if m.group() == "/*":
            end = text.find("*/", m.end())
            pos = len(text) if end < 0 else end + 2
        else:
            pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def _heads(body: str) -> set[str]:
    """The instruction names of the program's statements (``c[0] = measure q[0]``: measure)."""
    heads: set[str] = set()
    for statement in set(re.split(r"[;{}]", body)):  # each distinct statement once
        if _ASSIGNED_MEASURE.match(statement):
            heads.add("measure")
        elif (head := _HEAD.match(statement)) is not None:
            heads.add(head.group(1))
    return heads - {"for", "while", "else", "in", "let", "return", "end", "break", "continue"}


def _strip_definitions(text: str, definition: re.Pattern[str]) -> tuple[str, bool]:
    """The text without gate / def / opaque definitions (their bodies name parameters, not
    registers), and whether there were any."""
    out: list[str] = []
    pos, found = 0, False
    for match in definition.finditer(text):
        if match.start() < pos:
            continue
        found = True
        out.append(text[pos:match.start()])
        brace, semi = text.find("{", match.end()), text.find(";", match.end())
        if match.group(1) == "opaque" or brace < 0 or (0 <= semi < brace):
            pos = (semi + 1) if semi >= 0 else len(text)
            continue
        depth, i = 0, brace
        while i < len(text):
            depth += {"{": 1, "}": -1}.get(text[i], 0)
            i += 1
            if depth == 0:
                break
        pos = i
    out.append(text[pos:])
    return "".join(out), found


def _indices(index: str, size: int) -> set[int] | None:
    """The qubits of a register of ``size`` that an index names: ``3``, ``-1``, ``{0, 2}``,
    ``1:4`` or ``0:2:8`` (OpenQASM 3 ranges include their end); None: all of them (a computed
    index, an open or long range)."""
    index = index.strip()
    if index.startswith("{") and index.endswith("}"):
        found: set[int] = set()
        for part in index[1:-1].split(","):
            one = _indices(part, size)
            if one is None:
                return None
            found |= one
        return found
    parts = index.split(":")
    if len(parts) > 3 or not all(_INT.fullmatch(p) for p in parts):
        return None
    start, *rest = (int(p) for p in parts)
    if not rest:
        return {start + size if start < 0 else start}
    step, stop = (1, rest[0]) if len(rest) == 1 else (rest[0], rest[1])
    if step == 0:
        return None
    span = range(start, stop + (1 if step > 0 else -1), step)
    if len(span) > MAX_SLICE:
        return None
    return {i + size if i < 0 else i for i in span}


def qasm_shape(text: str) -> CircuitShape | None:
    """Qubits an OpenQASM 2 or 3 program declares and touches (qiskit is not loaded); None
    when a register's size is not a number this reader can tell."""
    text = _strip_comments(text)
    version = 2 if (v := _VERSION.search(text)) is not None and v.group(1) == "2" else 3
    text = _PREAMBLE.sub(" ", text)
    registers: dict[str, int] = {}
    for m in _QREG.finditer(text):
        registers[m.group(1)] = int(m.group(2))
    consts = {m.group(1): int(m.group(2)) for m in _CONST.finditer(text)} if version == 3 else {}
    for m in _QUBIT.finditer(text):
        size = (m.group(1) or "1").strip()
        if size.isdigit():
            registers[m.group(2)] = int(size)
        elif size in consts:
            registers[m.group(2)] = consts[size]
        else:
            return None
    body, defined = _strip_definitions(_QUBIT.sub(" ", _QREG.sub(" ", text)),
                                       _DEFINITION[version])
    physical = {int(k) for k in _PHYSICAL.findall(body)}
    declared = sum(registers.values()) + (max(physical) + 1 if physical else 0)
    ops = _BARRIER.sub(" ", body)  # Aer drops a qubit that only a barrier names
    whole: set[str] = set()
    named: dict[str, set[int]] = {}
    for name, index in set(_REF.findall(ops)):  # each distinct reference once
        if name not in registers or name in whole:
            continue
        found = _indices(index, registers[name]) if index else None
        if found is None:  # the whole register, or an index not told: all of it, to be safe
            whole.add(name)
        else:
            named.setdefault(name, set()).update(found)
    used = sum(registers[name] for name in whole) + len(set(_PHYSICAL.findall(ops))) + sum(
        len({i for i in indices if 0 <= i < registers[name]})
        for name, indices in named.items() if name not in whole)
    clifford = not defined and _heads(_CLASSICAL[version].sub(" ", body)) <= CLIFFORD
    return CircuitShape(used=used, declared=declared, clifford=clifford,
                 how="the qubits its instructions touch (OpenQASM)")


#: the QPY versions :func:`qpy_qubits` reads (their headers are laid out as it expects)
QPY_VERSIONS = range(1, 19)


def qpy_qubits(data: bytes) -> int | None:
    """The declared qubits of the first circuit of a QPY file, from its headers; None when
    the bytes are not a QPY file of a circuit this reader knows (versions 1 to 18).

    The file header is ``!6sBBBBQ`` (18 bytes; version 10 on adds a 1-byte symbolic encoding),
    then, from version 5, a 1-byte program type (``q``: a circuit) and, from version 16, a
    table of 8-byte program offsets. The circuit header starts ``!HdI`` in version 1
    (num_qubits at 10) and ``!H1cHI`` from version 2 (num_qubits at 5)."""
    try:
        if data[:6] != b"QISKIT" or data[6] not in QPY_VERSIONS:
            return None
        version = data[6]
        pos = 18 if version < 10 else 19
        if version >= 5:
            if data[pos:pos + 1] != b"q":  # not a circuit (a schedule block)
                return None
            pos += 1
        if version >= 16:
            (pos,) = struct.unpack_from("!Q", data, pos)  # the first program's offset
        offset = 10 if version < 2 else 5
        (qubits,) = struct.unpack_from("!I", data, pos + offset)
    except (IndexError, struct.error):
        return None
    return int(qubits)


def circuit_shape(path: Path, fmt: str) -> CircuitShape | None:
    """The circuit file's shape, or None when it cannot be read or told."""
    try:
        with path.open("rb") as fh:
            data = fh.read(MAX_SCAN)
    except OSError:
        return None
    if fmt == "qpy":
        qubits = qpy_qubits(data)
        if qubits is None:
            return None
        return CircuitShape(used=qubits, declared=qubits, clifford=False,
                     how="the qubits its QPY header declares (idle ones included)")
    return qasm_shape(data.decode("utf-8", errors="replace"))
