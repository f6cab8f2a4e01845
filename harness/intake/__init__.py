"""Intake: what turns a path into a checked deposit: safe archive/folder opening and digest,
the QDATA manifest, validation, governance, recorded counts and version comparison."""
