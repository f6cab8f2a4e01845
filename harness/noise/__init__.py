"""Noise models: the canonical ``qrepro-noise-v1`` format (:mod:`harness.noise.load`)
and the importers and validators behind it (:mod:`harness.noise.formats`)."""
