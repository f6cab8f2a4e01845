"""Run the agent in a container built from the deposit's pinned environment.

prepare(): render the Dockerfile for the deposit's environment, tag it by the environment
digest (spec + base image id + agent), and build only when no image has that tag.
invoke_agent(): run the image sandboxed (runners/sandbox.py) with the deposit mounted
read-only and the work directory as the only writable mount, kill it at the timeout.
The docker SDK is only touched here; its exceptions become BuildError / RunnerUnavailable
/ AgentError where they enter.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import socket
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from harness.errors import AgentError, BuildError, RunnerUnavailable
from harness.intake.manifest import Environment
from harness.units import parse_size
from runners.base import AGENT_DIR, LOG_FILE, AgentCall, Runner, available_cpus
from runners.base_image import BASE_REPO, can_bootstrap, resolve_base
from runners.confine import Watchdog
from runners.dockerfile import (
    INDEX_ARGS,
    render_dockerfile,
    render_system_dockerfile,
    requirements_text,
)
from runners.envspec import (
    AGENT_FILES,
    BYTECODE,
    EnvSpec,
    resolve_spec,
    spec_digest,
    spec_from_environment,
)
from runners.local import tail
from runners.locks import named_lock
from runners.sandbox import Sandbox
from runners.untrusted import write_text
from runners.venv import run_uv
from runners.wheelhouse import docker_target, fetch

IMAGE_REPO = "qrepro-env"
LOG_TAIL_LINES = 5000
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
#: forwarded into builds unless the user says otherwise (TLS-intercepting proxies)
DEFAULT_CA = HOST_CA if HOST_CA.is_file() else None
OWNER_LABEL = "org.qrepro.owner"
ENV_LABEL = "org.qrepro.env"
POLL_S = 0.5
#: resolving the environment on the host (uv pip compile)
BUILD_TIMEOUT_S = 600.0
#: in every image's digest: built with no network, from the hashed wheelhouse
NO_NETWORK = "network-none-hashed"
#: where a failed build points the user: the manifest's environment section
ENVIRONMENT_FIELD = {"file": "qdata.yaml", "field": "environment"}
_CERT_ERROR = re.compile(
    r"CERTIFICATE_VERIFY_FAILED|invalid peer certificate|UnknownIssuer|certificate verify "
    r"failed|self[- ]signed certificate|--system-certs|SSL: ", re.IGNORECASE)
_MISMATCH = re.compile(r"[Hh]ash mismatch for `?([^`\s]+)`?|THESE PACKAGES DO NOT MATCH THE "
                       r"HASHES[^\n]*\n\s*(\S+)")
ENGINE_HELP = (
    "start one (`dockerd &`, or `systemctl start docker`), or evaluate with "
    "--runner local, or --runner auto to fall back to it"
)


def connect() -> Any:
    """A docker client whose engine answers, else RunnerUnavailable saying how to start one."""
    try:
        import docker

        client = docker.from_env()
        client.ping()
    except Exception as exc:  # docker raises several unrelated types here
        raise RunnerUnavailable(
            f"no Docker engine answers ({exc.__class__.__name__}): " + ENGINE_HELP
        ) from exc
    return client


def docker_problem(client: Any, base_image: str | None) -> str | None:
    """None when this engine can run a deposit with no further set-up, else why not."""
    if base_image is not None:
        return None
    for image in client.images.list():
        if any(t.startswith(("python:", f"{BASE_REPO}:")) for t in image.tags):
            return None
    if can_bootstrap():
        return None
    return (
        "no python or qrepro-base image is here, none can be pulled and debootstrap is not "
        "installed to make one"
    )


def cleanup_stale(client: Any) -> int:
    """Remove containers of qrepro runs whose harness process is gone, and dangling images
    that failed builds left. Returns how many containers were removed."""
    import docker

    removed = 0
    host = socket.gethostname()
    with contextlib.suppress(docker.errors.APIError):
        for container in client.containers.list(all=True, filters={"label": OWNER_LABEL}):
            owner_host, _, pid = container.labels.get(OWNER_LABEL, "").partition(":")
            if owner_host == host and pid.isdigit() and _alive(int(pid)):
                continue  # its harness is still running
            if owner_host != host and container.status == "running":
                continue  # another machine's harness may share this engine
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)
                removed += 1
    with contextlib.suppress(docker.errors.APIError):
        client.images.prune(filters={"dangling": True, "label": ENV_LABEL})
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


_COMMAND = re.compile(
    r"The command '/bin/sh -c (?P<cmd>.*)' returned a non-zero code: (?P<code>\d+)", re.DOTALL
)


def short_build_error(error: str) -> str:
    """Docker's "The command '/bin/sh -c <the whole RUN line>' returned ..." in a few words."""
    match = _COMMAND.search(error)
    if match is None:
        return error[:300]
    cmd = match.group("cmd")
    step = ("installing the requirements" if "pip install" in cmd
            else "installing system_packages" if "apt-get" in cmd
            else "checking the base image's Python" if "sys.version_info" in cmd
            else "a build step")
    return f"{step} failed (exit {match.group('code')})"


def certificate_hint(log: str) -> str | None:
    """qrepro's advice when a build failed on TLS verification (an intercepting proxy)."""
    if not _CERT_ERROR.search(log):
        return None
    return (
        "the package index's TLS certificate was not trusted inside the build: a "
        "TLS-intercepting proxy is likely; qrepro forwards the host's CA bundle by default "
        f"({HOST_CA}): pass --forward-ca PATH to name another bundle, and do not pass "
        "--no-forward-ca"
    )


@dataclass
class BuildRecord:
    """What prepare() did, for the report."""

    tag: str = ""
    image_id: str = ""
    base_image: str = ""
    base_image_id: str = ""
    base_reason: str = ""
    built: bool = False
    build_log: list[str] = field(default_factory=list)
    dockerfile: str = ""


class DockerRunner(Runner):
    name: ClassVar[str] = "docker"
    sandboxed: ClassVar[bool] = True

    def __init__(
        self,
        base_image: str | None = None,
        sandbox: Sandbox | None = None,
        forward_ca: Path | None = DEFAULT_CA,
        gpu: bool = False,
        client: Any = None,
        installer: str = "uv",
        rebuild: bool = False,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        self.base_image = base_image
        self.progress = progress or _stderr
        self.installer = installer
        self.rebuild = rebuild
        self.sandbox = sandbox or Sandbox()
        self.forward_ca = forward_ca
        self.gpu = gpu
        self._client = client
        self._running: Any = None  # the container of the agent while it runs
        self.record = BuildRecord()
        self.spec: EnvSpec | None = None
        self._wheelhouse: dict[str, Path] = {}

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = connect()
        return self._client

    # --- build ------------------------------------------------------------------------

    def spec_for(self, environment: Environment, deposit_root: Path) -> EnvSpec:
        return spec_from_environment(environment, deposit_root, self.gpu)

    def dockerfile(self, spec: EnvSpec, base: str | None = None) -> str:
        base = base or self.base_image or f"python:{spec.python_minor}-slim"
        return render_dockerfile(
            spec, base, forward_ca=self.forward_ca is not None, installer=self.installer
        )

    def check_gpu(self) -> None:
        """An explicit GPU request needs the engine's NVIDIA runtime: say so before building."""
        runtimes = self.client.info().get("Runtimes") or {}
        if "nvidia" not in runtimes:
            raise RunnerUnavailable(
                "GPU requested but the Docker engine has no NVIDIA runtime (runtimes: "
                f"{', '.join(sorted(runtimes)) or 'none'}); install nvidia-container-toolkit on "
                "a host with an NVIDIA GPU, or use --device auto / CPU"
            )

    def prepare(self, environment: Environment, deposit_root: Path, workdir: Path) -> None:
        if self.gpu:
            self.check_gpu()
        cleanup_stale(self.client)
        wanted = self.spec_for(environment, deposit_root)
        # resolved on the host with the index's hashes; nothing of a package runs here
        spec = resolve_spec(wanted, docker_target(wanted.python_minor),
                            [deposit_root / w for w in environment.wheels], run_uv,
                            BUILD_TIMEOUT_S)
        self.spec = spec
        base, reason = self.choose_base(spec.python_minor)
        if spec.system_packages:
            base, reason = self._system_image(spec, base), f"{reason}; system_packages added"
        base_id = self._base_image_id(base)
        digest = spec_digest(spec, base_id, self.installer, BYTECODE, NO_NETWORK)
        tag = f"{IMAGE_REPO}:{digest[:20]}"
        dockerfile = self.dockerfile(spec, base)
        self.record = BuildRecord(
            tag=tag, base_image=base, base_image_id=base_id, base_reason=reason,
            dockerfile=dockerfile,
        )
        with named_lock(f"build-{tag}"):
            existing = None if self.rebuild else self._find(tag)
            if existing is not None:
                self.record.image_id = existing.id
                self.record.build_log = [f"reused {tag} ({existing.id})"]
                return
            self._wheelhouse = fetch(spec.artifacts)
            self._build(spec, dockerfile, tag)

    def _system_image(self, spec: EnvSpec, base: str) -> str:
        """The base with Debian's system_packages: the one stage built with a network (the
        Debian mirror); no code of the deposit runs in it. Reused by its tag."""
        text = render_system_dockerfile(spec, base)
        digest = spec_digest(EnvSpec(python=spec.python, requirements=(),
                                     system_packages=spec.system_packages),
                             self._base_image_id(base), text)
        tag = f"{IMAGE_REPO}-system:{digest[:20]}"
        with named_lock(f"build-{tag}"):
            if self.rebuild or self._find(tag) is None:
                context = io.BytesIO()
                with tarfile.open(fileobj=context, mode="w") as tar:
                    _add_bytes(tar, "Dockerfile", text.encode())
                self._stream(context.getvalue(), tag, network="bridge")
        return tag

    def stack_index(self) -> dict[str, tuple[str, str]]:
        if self.spec is None:
            return {}
        return {n: (a.filename, a.sha256) for n, a in self.spec.stack_artifacts().items()}

    def choose_base(self, minor: str) -> tuple[str, str]:
        """(base image, why): the user's choice, else found, pulled or bootstrapped."""
        if self.base_image is not None:
            return self.base_image, "named with --base-image"
        return resolve_base(self.client, minor, self.progress)

    def _find(self, tag: str) -> Any:
        import docker

        try:
            return self.client.images.get(tag)
        except docker.errors.ImageNotFound:
            return None

    def _base_image_id(self, base: str) -> str:
        image = self._find(base)
        if image is None:
            raise RunnerUnavailable(
                f"base image {base} is not available locally and cannot be "
                "pulled here: build one with `qrepro base-image bootstrap` "
                "or name one with --base-image"
            )
        return str(image.id)

    def _context(self, spec: EnvSpec, dockerfile: str) -> bytes:
        from uv import find_uv_bin

        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            _add_bytes(tar, "Dockerfile", dockerfile.encode())
            _add_bytes(tar, "requirements.txt", requirements_text(spec).encode())
            if self.installer == "uv":
                tar.add(find_uv_bin(), arcname="uv")
            _add_bytes(tar, "wheelhouse/.qrepro", b"")  # the folder, even when empty
            for name, path in sorted(self._wheelhouse.items()):
                tar.add(path, arcname=f"wheelhouse/{name}")
            for agent_file in AGENT_FILES:
                tar.add(AGENT_DIR / agent_file, arcname=f"agent/{agent_file}")
        return buf.getvalue()

    def _build(self, spec: EnvSpec, dockerfile: str, tag: str) -> None:
        # no network: every file to install is in the context, checked against the index's
        # sha256 on the host and again by the installer; an sdist's build code runs here
        # with nothing to reach
        self._stream(self._context(spec, dockerfile), tag, network="none")
        self.record.built = True
        self.record.image_id = str(self.client.images.get(tag).id)

    def _stream(self, context_bytes: bytes, tag: str, network: str) -> None:
        import docker

        context = io.BytesIO(context_bytes)
        log: list[str] = []
        try:
            stream = self.client.api.build(
                fileobj=context,
                custom_context=True,
                tag=tag,
                rm=True,
                forcerm=True,
                network_mode=network,
                nocache=self.rebuild,
                decode=True,
                labels={ENV_LABEL: tag},
                buildargs=forwarded_build_args() if network != "none" else {},
            )
            for chunk in stream:
                if "stream" in chunk:
                    text = _ANSI.sub("", chunk["stream"])
                    log.extend(line for line in text.splitlines() if line.strip())
                if "error" in chunk:
                    error = chunk["error"].strip()
                    mismatch = _MISMATCH.search("\n".join([*log, error]))
                    if mismatch is not None:
                        raise BuildError(
                            f"image build failed: {mismatch.group(1)} in the wheelhouse does "
                            "not have the sha256 the package index gave when the environment "
                            "was resolved (hash-checking install)", **ENVIRONMENT_FIELD)
                    hint = certificate_hint("\n".join([*log, error]))
                    if hint is not None:
                        raise BuildError(f"image build failed: {hint}", **ENVIRONMENT_FIELD)
                    raise BuildError(
                        f"image build failed: {short_build_error(error)}; last lines: "
                        + " | ".join(line[:300] for line in log[-8:] if not line.startswith(
                            ("Step ", " ---> ", "Removing intermediate"))),
                        **ENVIRONMENT_FIELD,
                    )
        except docker.errors.APIError as exc:
            raise BuildError(f"image build failed: {exc}") from exc
        self.record.build_log = [*self.record.build_log, *log]

    # --- run --------------------------------------------------------------------------

    def agent_paths(self, deposit_root: Path, workdir: Path) -> tuple[str, str]:
        from runners.sandbox import DEPOSIT_MOUNT, WORK_MOUNT

        return DEPOSIT_MOUNT, WORK_MOUNT

    def invoke_agent(self, deposit_root: Path, workdir: Path) -> AgentCall:
        import docker

        self.sandbox.grant_work_dir(workdir)
        kwargs = self.sandbox.run_kwargs(deposit_root, workdir)
        if self.gpu:
            kwargs["device_requests"] = [
                docker.types.DeviceRequest(count=-1, capabilities=[["gpu"]])
            ]
        kwargs["labels"] = {OWNER_LABEL: f"{socket.gethostname()}:{os.getpid()}",
                            ENV_LABEL: self.record.tag}
        try:
            container = self.client.containers.run(self.record.tag, detach=True, **kwargs)
        except docker.errors.APIError as exc:
            raise RunnerUnavailable(f"cannot start the container: {exc}") from exc
        self._running = container
        try:
            self.started()
            return self._wait(container, workdir)
        finally:
            self._running = None
            with contextlib.suppress(docker.errors.APIError):
                container.remove(force=True)

    def agent_log_tail(self, workdir: Path) -> str:
        """The container's stderr so far (the agent's log is written after it ends)."""
        import docker

        container = self._running
        if container is None:
            return ""
        try:
            return str(container.logs(stdout=False, stderr=True, tail=20).decode(
                "utf-8", errors="replace"))
        except docker.errors.APIError:
            return ""

    def _wait(self, container: Any, workdir: Path) -> AgentCall:
        import docker
        import requests

        watchdog = Watchdog(self.sandbox.timeout_s, parse_size(self.sandbox.disk), workdir)
        while True:
            try:
                status = int(container.wait(timeout=POLL_S)["StatusCode"])
                break
            except (requests.exceptions.ConnectionError, requests.exceptions.ReadTimeout):
                pass
            if watchdog.breached():
                with contextlib.suppress(docker.errors.APIError):  # it may have just exited
                    container.kill()
                status = 137
                break
        logs = container.logs(stdout=False, stderr=True, tail=LOG_TAIL_LINES).decode(
            "utf-8", errors="replace")
        write_text(workdir / LOG_FILE, logs)  # never through a link the container planted
        result = container.logs(stdout=True, stderr=False).decode("utf-8", errors="replace")
        container.reload()
        if watchdog.timed_out:
            raise AgentError(
                f"the container ran past the {self.sandbox.timeout_s:g} s timeout and was killed",
                file=str(workdir / LOG_FILE),
            )
        if watchdog.disk_exceeded:
            raise AgentError(
                f"the run wrote more than {self.sandbox.disk} into its work directory and "
                "was killed (raise it with --disk)",
                file=str(workdir / LOG_FILE),
            )
        if container.attrs["State"].get("OOMKilled"):
            raise AgentError(
                f"the container was killed for exceeding the {self.sandbox.memory} memory limit",
                file=str(workdir / LOG_FILE),
            )
        return AgentCall(status=status, log_tail=tail(logs), result=result)

    def notes(self) -> tuple[str, ...]:
        r = self.record
        how = "built" if r.built else "reused (no build)"
        return (
            f"docker runner: image {r.tag} ({r.image_id}) {how} on base {r.base_image} "
            f"({r.base_image_id}): {r.base_reason}",
        )

    def cpus(self) -> int:
        """The container's CPU quota (--cpus), at most the host's cores."""
        return available_cpus(self.sandbox.cpus)

    def memory_limit(self) -> tuple[int | None, str]:
        """The container's memory limit (--memory; swap is not allowed beyond it)."""
        where = f"--memory {self.sandbox.memory}: the container's memory limit"
        return parse_size(self.sandbox.memory), where

    def details(self) -> dict[str, Any]:
        r = self.record
        return {
            "image": {
                "tag": r.tag,
                "id": r.image_id,
                "base": r.base_image,
                "base_id": r.base_image_id,
                "base_reason": r.base_reason,
                "built": r.built,
                # the environment's build runs with no network (nothing to forward a CA to)
                "build_network": "none",
            },
            "sandbox": self.sandbox.describe(),
        }


def forwarded_build_args() -> dict[str, str]:
    """Package-index and proxy settings of the host, passed as build-only arguments."""
    return {name: os.environ[name] for name in INDEX_ARGS if name in os.environ}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
