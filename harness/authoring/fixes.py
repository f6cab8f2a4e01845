"""One fix sentence per finding code: what the author changes so that the finding goes away.

Every code the harness emits (``finding(...)`` and ``code=`` in harness/ and runners/) has an
entry, and so has every code the authoring tools add (``qrepro init``'s and ``qrepro
check``'s own observations). ``None``: the finding is about the evaluator's run (its runner,
its sandbox), not about the deposit, and leaves the author nothing to do.

Templates are ``str.format`` strings over the finding's context: ``{file}``, ``{field}``,
``{message}``, ``{value}`` (the manifest's value at the field), ``{package}`` and
``{installed}`` (a requirement's name and the version installed where qrepro runs), and the
keys an authoring check passes (``{claim}``, ``{recommended}``, ...). A key a context lacks
is left empty.
"""

from __future__ import annotations

from collections.abc import Mapping

FIXES: dict[str, str | None] = {
    # --- Available ---------------------------------------------------------------------
    "identifier-missing": "reserve a persistent identifier (Zenodo: 'Reserve DOI' before you "
    "publish) and state it as identity.identifier: {{scheme: doi, value: 10.NNNN/...}}",
    "license-unknown": "state an open SPDX license (CC-BY-4.0 for data, MIT or Apache-2.0 for "
    "code: qrepro init --license); found '{value}'",
    "license-not-open": "choose an open license: '{value}' restricts commercial use or "
    "derivatives, and Available needs an open one (CC-BY-4.0, CC0-1.0, MIT, Apache-2.0, ...)",
    "embargo-active": "Available waits for the embargo to end ({value}): set "
    "license.embargo_until to null when the deposit may be public",
    "consent-basis-missing": "state the legal basis for the personal data (informed-consent, "
    "public-task, legitimate-interest, contract or anonymised)",
    "consent-record-missing": "point consent.record at the consent record (a URL, or an "
    "inventoried file of the deposit)",
    "missing-file": "restore {file}, or remove its entry from the files inventory",
    "unsafe-path": "keep {file} inside the deposit: a relative path without '..', no symlink "
    "leaving it",
    "checksum-mismatch": "{file} changed after it was inventoried: restore the original "
    "bytes, or, if the change is intended, write its new sha256 and size (qrepro inventory "
    "prints them) and record again every result that depends on it",
    "git-lfs-pointer": "fetch the real bytes of {file} (git lfs pull) before depositing",
    "dvc-pointer": "fetch the real bytes of {file} (dvc pull) before depositing",
    "not-inventoried": "add {file} to the files inventory (qrepro inventory prints its "
    "entry), or remove it from the deposit",
    "reference-not-inventoried": "add {value} to the files inventory (qrepro inventory "
    "prints its entry)",
    "deposit-changed": "the deposit changed while it ran: make the notebooks write only "
    "under output_dir, never into the deposit",
    # --- Functional --------------------------------------------------------------------
    "invalid-noise-model": "fix the noise model {file}: {message} (formats: docs/noise.md)",
    "notebook-failed": "make {value} run from top to bottom in a fresh kernel: {message}",
    "circuit-failed": "make circuit {value} run on Aer: {message}",
    "qasm3-reader-not-pinned": "{message} (or pin qiskit[qasm3-import]) in "
    "environment.requirements",
    "not-run": "{message}",
    "environment-failed": "make the environment build and run: {message}",
    "manifest-invalid": "correct qdata.yaml: {message}",
    # --- Reusable ----------------------------------------------------------------------
    "provenance-incomplete": "state {field}: Reusable needs every author's affiliation and "
    "the institution ({message})",
    "calibration-missing": "deposit the calibration snapshot taken when the hardware data "
    "was recorded and point provenance.calibration at it (docs/noise.md)",
    "requirements-missing": "list the requirements pinned exactly (name==version), or a "
    "lock file: qrepro init writes them from the notebooks' imports",
    "unpinned-requirement": "pin {package} exactly{installed}; found {value}",
    "seed-missing": "declare the seeds that produced the results in {field} (qrepro record "
    "--seeds 0,1,2,3,4 runs and records them)",
    "nondeterministic-notebook": "derive every random choice from `seed` "
    "(np.random.default_rng(seed), AerSimulator(seed_simulator=seed), "
    "qml.device(..., seed=seed)): two runs with one seed gave different metrics",
    "seed-not-reproducing": "record the seed, method and precision that really produced the "
    "counts (qrepro record does): {message}",
    "interpreter-start-hook": "a vendored wheel installs a start-up hook ({message}): "
    "remove it unless the notebooks need it",
    "foreign-code-in-replay": "code from outside qiskit, qiskit-aer and what they need ran "
    "during the replay ({message}): remove the module or plugin from the environment, or the "
    "deposit folder that shadows it",
    "author-missing": "name the authors in provenance.authors (qrepro init --author "
    "'Name <ORCID iD>'), each with an affiliation",
    "tag-parameters": "tag {value} as parameters (in Jupyter: View > Cell Toolbar > Tags), "
    "so that qrepro can inject each seed",
    "parameters-missing": "add a code cell that sets seed, shots, device, noise_model_path "
    "and output_dir, and tag it parameters (docs/notebooks.md)",
    "unresolved-import": "module {value} (imported in {message}) is not installed for "
    "{python}: pin the distribution that provides it by hand (name==version)",
    "import-not-required": "module {value} (imported in {message}) is not covered by "
    "{file}: add its distribution, pinned exactly",
    "agent-package-missing": "pin {value} in {file} (name==version): the evaluation needs it "
    "to {message}",
    "option-dropped": "line {value} of {file} was left out: {message}",
    # --- Reproduced --------------------------------------------------------------------
    "invalid-counts": "fix the recorded counts {file}: {message}",
    "seed-sensitive": "deposit every seed you ran, not the best ones, or claim what typical "
    "seeds give: {message}",
    "no-claims": "state what the paper claims under claims (docs/qdata.md#claims): without a "
    "claim nothing can be reproduced",
    "claim-unsupported": "the deposited data do not support claim {claim} (its test, run on "
    "them as if they were the reproduction: {message}); correct {field}, or deposit the data "
    "that produced it",
    "claim-undecided": "the deposited data cannot show claim {claim} (its test, run on them "
    "as if they were the reproduction: {message})",
    "tolerance-tight": "raise the tolerance of claim {claim} to {recommended}: {message}",
    "tolerance-missing": "state a tolerance for claim {claim} ({message})",
    # --- warnings that deny nothing --------------------------------------------------------
    "license-inconsistent": "set license.commercial_use to what the license says: {message}",
    "deidentification-missing": "describe how the personal data was de-identified in "
    "consent.deidentification",
    "orcid-missing": "add the author's ORCID iD (recommended)",
    "claimed-mean-mismatch": "make {field} the mean of per_seed, or correct per_seed: "
    "{message}",
    "spread-mismatch": "make {field} agree with per_seed (sd with n - 1): {message}",
    "step-mismatch": "state the metric's real step (1/n_test): {message}",
    "tolerance-below-step": "raise the tolerance to at least one step: {message}",
    "correlated-seeds": "choose seeds at least `shots` apart: {message}",
    "agent-requirements-added": "pin papermill and ipykernel yourself for full control: "
    "{message}",
    "consent-confirm": "confirm that the deposit holds no personal data (consent."
    "personal_data: false); otherwise state basis and record",
    "source-confirm": "confirm where the results come from (provenance.source: simulator); "
    "hardware or mixed results also need a calibration snapshot",
    "readme-stub": "describe the deposit in {file}: what the notebooks compute, the data, and "
    "how the paper's results map onto the claims",
    "circuit-undescribed": "describe {file} under circuits (id, shots, seed_simulator, "
    "method, counts: docs/qdata.md#circuits), or remove it",
    "parameters-defaults": "give the parameters cell of {file} defaults for {value}, the "
    "names qrepro injects, so that the notebook also runs by hand",
    "seed-hard-coded": "seed this call from the parameters cell's `seed`, so that each "
    "recorded seed is its own trial: {value}",
    "checkpoint-files": "remove {file} (a Jupyter autosave) from the deposit",
    # --- about the evaluator's run, not the deposit --------------------------------------
    "version-mismatch": None,
    "bit-identity-not-expected": None,
    "not-sandboxed": None,
    "system-packages-not-installed": None,
}


class _Context(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return ""


def fix_sentence(code: str, context: Mapping[str, str]) -> str | None:
    """The fix for a finding ``code`` in this context; None when the author has nothing to
    do. An unknown code reads its message (the table lags behind a new finding)."""
    if code not in FIXES:
        return context.get("message") or code
    template = FIXES[code]
    return template.format_map(_Context(context)) if template is not None else None
