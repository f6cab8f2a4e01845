"""The pieces behind :mod:`harness.noise.load`, one job per module.

* :mod:`~harness.noise.formats.fields` -- format names, tolerances, field paths and the
  typed accessors that raise :class:`~harness.errors.NoiseModelError`;
* :mod:`~harness.noise.formats.jsonio` -- strict JSON reading, canonical JSON and digest;
* :mod:`~harness.noise.formats.channels` -- validation of the four channel types;
* :mod:`~harness.noise.formats.canonical` -- validation of a ``qrepro-noise-v1`` dict;
* :mod:`~harness.noise.formats.converted` -- bookkeeping shared by the importers;
* :mod:`~harness.noise.formats.qiskit_dict` -- the ``qiskit-noise-dict`` importer;
* :mod:`~harness.noise.formats.calibration` -- the ``calibration-v1`` importer.

Import the public API from :mod:`harness.noise.load`.
"""
