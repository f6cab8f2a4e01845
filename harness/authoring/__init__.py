"""The authors' on-ramp (issue #16): tools that turn a folder of notebooks and data into a
deposit that earns its badges.

- ``qrepro init DIR`` (:mod:`harness.authoring.scaffold`): a first ``qdata.yaml`` with the
  inventory, exact pins from the notebooks' imports, the notebooks and what is left to do;
- ``qrepro record`` (:mod:`harness.authoring.record`): runs and records the results;
- ``qrepro check DEPOSIT`` (:mod:`harness.authoring.check`): validation, a smoke run and a
  static look at the claims, ending in a to-do list ordered by badge.

Click commands: :mod:`harness.authoring.commands` (registered by ``harness.cli``).
"""
