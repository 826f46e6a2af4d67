"""Host side of the code sandbox: pick the isolation layer, start sandboxes, run tests, kill, reap.

A *sandbox* is one ``runner.py`` zygote, started under bubblewrap (user, pid, net, ipc, uts and
mount namespaces; a read-only runtime and a private 64 MiB ``/tmp``) or, where user namespaces
are blocked, directly with Landlock. Both layers add the two seccomp filters and rlimits (see
``isolation.py``), a scrubbed environment, and no capabilities. The layer is detected once per
process by running a canary program through it, and logged once.

A judgement borrows a warm sandbox from a per-process pool, loads one program, and sends the
tests one at a time: the sandbox only ever holds the current test's input. Every test runs in a
fresh child forked from the pristine zygote and is reaped before its result comes back; the
private ``/tmp`` is emptied after every test. So nothing the judged program started or wrote
outlives its judgement. The zygote itself (grader code, never running untrusted code) is reused by
later judgements, closed after about ``IDLE_CLOSE_S`` idle seconds (by the spawner thread), at
interpreter exit, or by ``close_sandboxes()``; pass ``reuse=False`` for one sandbox per judgement.

Deadlines are enforced twice: the zygote SIGKILLs a test child at the time limit, and this side
measures its own wall clock and kills the *whole* sandbox (the pid namespace under bubblewrap, the
process group otherwise) if no answer arrives ``GRACE_S`` seconds later. Nothing here trusts the
sandbox beyond the bytes it returns; comparison happens in ``compare.py``.

Not covered: cgroups (memory is bounded by RLIMIT_AS, which counts virtual memory), machines
without seccomp support (x86_64 and aarch64 only).
"""

from __future__ import annotations

import atexit
import collections
import contextlib
import fcntl
import functools
import json
import logging
import os
import queue
import select
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass

from . import isolation, runner

logger = logging.getLogger(__name__)

LAYERS = ("bwrap", "landlock", "none")
ISOLATION_CHOICES = ("auto", *LAYERS)
GRACE_S = 2.0
START_TIMEOUT_S = 30.0
LOAD_TIMEOUT_S = 15.0
IDLE_CLOSE_S = 60.0
MAX_USES = 2000
TMPFS_BYTES = 64 << 20
RUNNER_PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), "runner.py")
ENV_ISOLATION = "VERL_PIPELINE_REWARD_ISOLATION"


class SandboxError(RuntimeError):
    """The sandbox itself failed (could not start, died, broke the protocol)."""


class SandboxUnavailable(RuntimeError):
    """No isolation layer works here and the caller did not explicitly accept running without one."""


@dataclass(frozen=True)
class Limits:
    time_s: float
    memory_mb: int
    output_mb: int = 16
    nofile: int = 64
    """Open files per test process (RLIMIT_NOFILE); its stdin, stdout, stderr and result count."""

    def __post_init__(self) -> None:
        if not 8 <= self.nofile <= 1 << 20:
            raise ValueError(f"Limits.nofile must be between 8 and 2**20 (got {self.nofile!r}): a test "
                             "process holds 5 files before the program opens any")

    def runner_limits(self) -> dict:
        return {"as": self.memory_mb << 20, "fsize": self.output_mb << 20, "nofile": self.nofile}


@dataclass(frozen=True)
class Runtime:
    """What a rule set changes inside the test processes (the protections are the same for all)."""

    recursion_limit: int | None = None  # sys.setrecursionlimit in each test process; None: Python's 1000
    exit_is_success: bool = False  # SystemExit with any code ends the test normally (the output so far counts)
    tagged_tuples: bool = False  # a returned tuple reaches the grader as a tuple, not as a list (see runner.to_wire)
    int_max_str_digits: int | None = None  # sys.set_int_max_str_digits in each test process; None: Python's 4300

    def header(self) -> dict:
        return {"recursion_limit": self.recursion_limit, "exit_is_success": self.exit_is_success,
                "tagged_tuples": self.tagged_tuples, "int_max_str_digits": self.int_max_str_digits}


@dataclass
class RunResult:
    """One test as the sandbox saw it: raw output bytes and how the process ended."""

    exit: int | None
    signal: int | None
    timed_out: bool
    wall_s: float
    cpu_s: float
    output: bytes
    output_limit_exceeded: bool
    stderr: str
    host_wall_s: float


class _Deadline(Exception):
    pass


class _Spawner:
    """Starts every sandbox from one long-lived thread, which also closes idle ones.

    ``--die-with-parent`` and PR_SET_PDEATHSIG fire when the *thread* that forked a process exits,
    so a sandbox started from a short-lived worker thread would die with it, mid-judgement.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def call(self, fn):
        with self._lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name="reward-sandbox-spawner", daemon=True)
                self._thread.start()
        done = threading.Event()
        box: list = [None, None]
        self._queue.put((fn, box, done))
        done.wait()
        if box[1] is not None:
            raise box[1]
        return box[0]

    def _loop(self) -> None:
        while True:
            try:
                fn, box, done = self._queue.get(timeout=IDLE_CLOSE_S / 4)
            except queue.Empty:
                _close_idle()
                continue
            try:
                box[0] = fn()
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                box[1] = e
            done.set()


_spawner = _Spawner()


class Sandbox:
    """One zygote process and its channel; used by one thread at a time."""

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self.uses = 0
        self.last_used = time.monotonic()
        self.healthy = True
        self._buf = bytearray()
        self._inner_pid: int | None = None
        info_r = info_w = None
        if layer == "bwrap":
            info_r, info_w = os.pipe()
            argv = isolation.bwrap_argv(
                isolation.bwrap_path(), isolation.python_executable(), RUNNER_PATH, info_w, TMPFS_BYTES
            )
            env, cwd, pass_fds = {}, None, (info_w,)
        else:
            argv = [isolation.python_executable(), "-I", "-S", "-X", "utf8", "-B", RUNNER_PATH]
            env, cwd, pass_fds = {"MALLOC_ARENA_MAX": "2"}, "/", ()
        try:
            self.proc = _spawner.call(
                lambda: subprocess.Popen(
                    argv,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    pass_fds=pass_fds,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                )
            )
        except OSError as e:
            for fd in (info_r, info_w):
                if fd is not None:
                    os.close(fd)
            raise SandboxError(f"cannot start the {layer} sandbox: {e}") from e
        if info_w is not None:
            os.close(info_w)
        self._in, self._out = self.proc.stdin.fileno(), self.proc.stdout.fileno()
        for fd in (self._in, self._out, self.proc.stderr.fileno()):
            fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
        try:
            self._handshake(info_r)
        except BaseException:
            self.kill()
            raise
        finally:
            if info_r is not None:
                os.close(info_r)

    def _handshake(self, info_r: int | None) -> None:
        deadline = time.monotonic() + START_TIMEOUT_S
        arch = isolation.host_arch()
        if arch is None:
            raise SandboxError("no seccomp filter for this architecture (x86_64 and aarch64 only)")
        child_prog, pid_slots = isolation.child_filter(arch)
        init = {
            "zygote_filter": isolation.zygote_filter(arch).hex(),
            "child_filter": child_prog.hex(),
            "pid_slots": pid_slots,
            "landlock": isolation.landlock_config(isolation.landlock_abi()) if self.layer == "landlock" else None,
            "drop_caps": self.layer != "bwrap",
            "capset_nr": arch.nr["capset"],
            "parent_pid": os.getpid() if self.layer != "bwrap" else None,
            "wipe_dir": "/tmp" if self.layer == "bwrap" else None,
            "preload": isolation.sandbox_preload(self.layer),
            "on_demand": isolation.sandbox_on_demand(self.layer),
            "lazy_prelude": _lazy_prelude_bindings(),
        }
        try:
            self._send(init, b"", deadline)
            hello = self._recv_json(deadline)
        except _Deadline:
            raise SandboxError(f"the {self.layer} sandbox did not start within {START_TIMEOUT_S:.0f} s") from None
        if not hello.get("ok"):
            raise SandboxError(f"the {self.layer} sandbox failed to start: {hello.get('error')}")
        if info_r is not None:
            # bubblewrap reports the host pid of the namespace's init: killing it tears down the
            # namespace, and the outer bwrap (our child) reaps it, so nothing is left to init(1)
            with contextlib.suppress(OSError, ValueError, TypeError):  # without it, kill() falls back to the group
                self._inner_pid = int(json.loads(_read_available(info_r) or b"{}").get("child-pid"))

    # -- channel ---------------------------------------------------------------------------------
    def _send(self, header: dict | None, blob: bytes, deadline: float) -> None:
        """Send a request; ``header=None`` is a run (the runner's hot path skips JSON for it)."""
        head = b"" if header is None else json.dumps(header).encode()
        data = memoryview(runner.FRAME.pack(len(head), len(blob)) + head + blob)
        poller = select.poll()
        poller.register(self._in, select.POLLOUT)
        while data:
            self._wait(poller, deadline)
            try:
                data = data[os.write(self._in, data) :]
            except BlockingIOError:
                continue
            except BrokenPipeError:
                raise SandboxError(f"sandbox exited{self._stderr_tail()}") from None

    def _recv_json(self, deadline: float) -> dict:
        head, _ = self._recv(deadline)
        return json.loads(head)

    def _recv(self, deadline: float) -> tuple[bytes, bytes]:
        poller = select.poll()
        poller.register(self._out, select.POLLIN)
        need = runner.FRAME.size
        header_len = blob_len = None
        while True:
            if header_len is None and len(self._buf) >= runner.FRAME.size:
                header_len, blob_len = runner.FRAME.unpack_from(self._buf)
                need = runner.FRAME.size + header_len + blob_len
            if header_len is not None and len(self._buf) >= need:
                start = runner.FRAME.size
                header = bytes(self._buf[start : start + header_len])
                blob = bytes(self._buf[start + header_len : need])
                del self._buf[:need]
                return header, blob
            self._wait(poller, deadline)
            try:
                chunk = os.read(self._out, max(1 << 16, min(need - len(self._buf), 64 << 20)))
            except BlockingIOError:
                continue
            if not chunk:
                raise SandboxError(f"sandbox exited{self._stderr_tail()}")
            self._buf += chunk

    @staticmethod
    def _wait(poller: select.poll, deadline: float) -> None:
        left = deadline - time.monotonic()
        timed_out = left <= 0 or not poller.poll(max(1, int(left * 1000)))
        if timed_out and time.monotonic() >= deadline:  # poll may wake a little early
            raise _Deadline

    def _stderr_tail(self) -> str:
        with contextlib.suppress(OSError):
            time.sleep(0.05)  # let a dying process finish writing its last words
            tail = _read_available(self.proc.stderr.fileno())[-600:].decode("utf-8", "replace").strip()
            return f": {tail}" if tail else ""
        return ""

    # -- requests ----------------------------------------------------------------------------------
    def load(self, code: str, mode: str, fn_name: str | None, limits: Limits,
             runtime: Runtime = Runtime()) -> str | None:
        """Compile ``code`` in the sandbox; returns the compile error, or None."""
        header = {"op": "load", "mode": mode, "fn_name": fn_name, "limits": limits.runner_limits(),
                  "timeout": limits.time_s, **runtime.header()}
        deadline = time.monotonic() + LOAD_TIMEOUT_S
        try:
            self._send(header, code.encode("utf-8", "surrogatepass"), deadline)
            reply = self._recv_json(deadline)
        except _Deadline:
            self.kill()
            return f"compiling took longer than {LOAD_TIMEOUT_S:.0f} s"
        except SandboxError:
            self.healthy = False
            raise
        if "error" in reply and "ok" not in reply:
            self.healthy = False
            raise SandboxError(reply["error"])
        return None if reply["ok"] else reply["error"]

    def run(self, payload: bytes, limits: Limits) -> RunResult:
        start = time.monotonic()
        deadline = start + limits.time_s + GRACE_S
        try:
            self._send(None, payload, deadline)
            head, blob = self._recv(deadline)
        except _Deadline:
            # the zygote should have answered by now; do not trust anything in there any more
            self.kill()
            return RunResult(None, signal.SIGKILL, True, time.monotonic() - start, 0.0, b"", False,
                             "", time.monotonic() - start)
        except SandboxError:
            self.healthy = False
            raise
        if not head.startswith(b"R") or len(head) < runner.RUN_REPLY.size:
            self.healthy = False
            raise SandboxError(_error_text(head))
        _, exit_code, sig, timed_out, ole, dirty, setup_failed, wall, cpu, _maxrss, _out, _res = (
            runner.RUN_REPLY.unpack_from(head))
        stderr = head[runner.RUN_REPLY.size :].decode("utf-8", "replace")
        if dirty:
            self.healthy = False  # its /tmp could not be emptied: never reuse it
        if setup_failed:
            # reported by the zygote, not read from the program's exit code or stderr
            self.healthy = False
            raise SandboxError(f"a test process's sandbox set-up failed: {stderr.strip()[-300:]}")
        return RunResult(
            exit=None if exit_code < 0 else exit_code,
            signal=sig or None,
            timed_out=bool(timed_out),
            wall_s=wall,
            cpu_s=cpu,
            output=blob,
            output_limit_exceeded=bool(ole),
            stderr=stderr,
            host_wall_s=time.monotonic() - start,
        )

    # -- ending ------------------------------------------------------------------------------------
    def kill(self) -> None:
        """SIGKILL everything in the sandbox and reap what is ours."""
        self.healthy = False
        if self.proc.poll() is None:
            if self._inner_pid:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(self._inner_pid, signal.SIGKILL)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    self.proc.wait(timeout=2)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._close_pipes()

    def close(self) -> None:
        """Ask the zygote to leave; kill it if it does not within a second."""
        if self.proc.poll() is None and self.healthy:
            with contextlib.suppress(_Deadline, SandboxError, OSError):
                self._send({"op": "exit"}, b"", time.monotonic() + 1.0)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(timeout=1.0)
        self.kill()

    def _close_pipes(self) -> None:
        for f in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            with contextlib.suppress(OSError):
                f.close()

    def alive(self) -> bool:
        return self.healthy and self.proc.poll() is None


@functools.cache
def _lazy_prelude_bindings() -> dict[str, list[str]]:
    return runner.lazy_prelude_bindings()


def _error_text(head: bytes) -> str:
    try:
        return str(json.loads(head).get("error", "malformed reply"))
    except ValueError:
        return f"malformed reply {head[:60]!r}"


def _read_available(fd: int) -> bytes:
    chunks = []
    while select.select([fd], [], [], 0)[0]:
        try:
            chunk = os.read(fd, 1 << 16)
        except BlockingIOError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


class _Pool:
    """Idle sandboxes of one layer, reused across judgements."""

    def __init__(self, layer: str) -> None:
        self.layer = layer
        self._idle: list[Sandbox] = []
        self._lock = threading.Lock()

    def acquire(self) -> Sandbox:
        with self._lock:
            while self._idle:
                sb = self._idle.pop()
                if sb.alive():
                    return sb
                sb.kill()
        return Sandbox(self.layer)

    def close_idle(self, older_than: float) -> None:
        now = time.monotonic()
        with self._lock:
            stale = [sb for sb in self._idle if now - sb.last_used >= older_than]
            self._idle = [sb for sb in self._idle if now - sb.last_used < older_than]
        for sb in stale:
            sb.close()

    def release(self, sb: Sandbox) -> None:
        sb.uses += 1
        sb.last_used = time.monotonic()
        if sb.alive() and sb.uses < MAX_USES:
            with self._lock:
                self._idle.append(sb)
                return
        sb.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for sb in idle:
            sb.close()


_pools: dict[str, _Pool] = {}
_layers: dict[str, str] = {}
_detect_lock = threading.Lock()


def _pool(layer: str) -> _Pool:
    with _detect_lock:
        return _pools.setdefault(layer, _Pool(layer))


CANARY = """
import os, socket
escaped = []
try:
    socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    escaped.append("socket")
except OSError:
    pass
try:
    if os.fork() == 0:
        os._exit(0)
    escaped.append("fork")
except OSError:
    pass
if CHECK_FS:
    for path in ("/proc/self/status", "/etc/hostname"):
        try:
            open(path).close()
            escaped.append(path)
        except OSError:
            pass
print("canary", *escaped)
"""


def _canary(layer: str) -> str | None:
    """Run a probe program through ``layer``; returns why the layer does not hold, or None."""
    try:
        sb = Sandbox(layer)
    except (SandboxError, OSError) as e:
        return str(e)
    limits = Limits(time_s=10.0, memory_mb=512)
    try:
        code = CANARY.replace("CHECK_FS", str(layer != "none"))
        error = sb.load(code, "stdio", None, limits)
        result = sb.run(b"", limits) if error is None else None
    except SandboxError as e:
        sb.kill()
        return str(e)
    out = result.output.decode(errors="replace").strip() if result else error
    if result is None or result.exit != 0 or out != "canary":
        sb.kill()
        stderr = result.stderr.strip()[-300:] if result else ""
        return f"canary program got {out!r} (exit {result and result.exit}) {stderr}".strip()
    _pool(layer).release(sb)
    return None


def resolve_layer(isolation_choice: str | None = None) -> str:
    """The isolation layer to use for ``isolation_choice`` (auto, bwrap, landlock, none).

    ``auto`` (the default, or the ``VERL_PIPELINE_REWARD_ISOLATION`` environment variable) prefers
    bubblewrap, then Landlock, and raises ``SandboxUnavailable`` if neither holds: running without
    either needs an explicit ``none``.
    """
    choice = (isolation_choice or os.environ.get(ENV_ISOLATION) or "auto").lower()
    if choice not in ISOLATION_CHOICES:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATION_CHOICES)}; got {choice!r}")
    with _detect_lock:
        if choice in _layers:
            return _layers[choice]
    candidates = {"auto": ("bwrap", "landlock")}.get(choice, (choice,))
    reasons = []
    for layer in candidates:
        why = _layer_unavailable(layer)
        if why is None:
            why = _canary(layer)
        if why is None:
            _log_layer(layer, requested=choice != "auto")
            with _detect_lock:
                _layers[choice] = layer
            return layer
        reasons.append(f"{layer}: {why}")
        if len(reasons) < len(candidates):
            logger.warning("code sandbox: %s unusable here (%s); trying the next layer", layer, why)
    raise SandboxUnavailable(
        "no sandbox layer works on this machine (" + "; ".join(reasons) + "). Install bubblewrap "
        "(apt-get install bubblewrap) with user namespaces enabled, or use a kernel with Landlock; "
        "to run untrusted code with rlimits and seccomp only, pass isolation='none' explicitly."
    )


def _layer_unavailable(layer: str) -> str | None:
    if isolation.host_arch() is None:
        return "no seccomp filter for this architecture"
    if layer == "bwrap" and isolation.bwrap_path() is None:
        return "bwrap is not installed"
    if layer == "landlock" and isolation.landlock_abi() < 1:
        return "the kernel has no Landlock"
    return None


def _log_layer(layer: str, requested: bool) -> None:
    python = isolation.python_executable()
    if layer == "bwrap":
        logger.info("code sandbox: bubblewrap namespaces + seccomp + rlimits (python %s)", python)
    elif layer == "landlock":
        log = logger.info if requested else logger.warning
        why = "as requested" if requested else "bubblewrap unusable"
        log("code sandbox: Landlock ABI %d + seccomp + rlimits, %s (python %s)", isolation.landlock_abi(), why, python)
    else:
        logger.warning("code sandbox: NO isolation layer (explicitly requested): seccomp + rlimits only")


class Program:
    """A loaded program in a sandbox: ``run`` one test at a time."""

    def __init__(self, sandbox: Sandbox, limits: Limits, load_error: str | None, retries: int = 0) -> None:
        self.retries = retries
        self._sandbox = sandbox
        self.limits = limits
        self.load_error = load_error

    def run(self, payload: bytes) -> RunResult:
        return self._sandbox.run(payload, self.limits)


@contextlib.contextmanager
def program(
    code: str, mode: str, fn_name: str | None, limits: Limits, layer: str, reuse: bool = True,
    runtime: Runtime = Runtime(),
) -> Iterator[Program]:
    """Load ``code`` into a sandbox of ``layer`` (see ``resolve_layer``) for the duration of the block."""
    pool = _pool(layer)
    sb = pool.acquire() if reuse else Sandbox(layer)
    retries = 0
    try:
        try:
            error = sb.load(code, mode, fn_name, limits, runtime)
        except SandboxError as e:
            if not sb.uses:
                raise  # a fresh sandbox failed: no second try would do better
            # a pooled sandbox died while idle (killed, out of memory): nothing of this program
            # ran yet, so one fresh sandbox is a fair retry
            logger.warning("pooled code sandbox failed at load (%s); retrying on a fresh one", e)
            count("sandbox_retries")
            retries = 1
            sb.kill()
            sb = Sandbox(layer)
            error = sb.load(code, mode, fn_name, limits, runtime)
        yield Program(sb, limits, error, retries)
    except BaseException:
        sb.kill()
        raise
    if reuse:
        pool.release(sb)
    else:
        sb.close()


_counters: collections.Counter = collections.Counter()
_counters_lock = threading.Lock()


def count(name: str) -> None:
    """Add one to the per-process event counter ``name`` (see ``counters``)."""
    with _counters_lock:
        _counters[name] += 1


def counters() -> dict[str, int]:
    """Events of this process so far: ``sandbox_retries`` (a pooled sandbox failed at load and the
    program was loaded again into a fresh one) and ``internal_errors`` (``INTERNAL_ERROR`` verdicts:
    the grader raised something unexpected on a sample). For the reward manager's metrics."""
    with _counters_lock:
        return {name: _counters[name] for name in ("sandbox_retries", "internal_errors")}


def close_sandboxes() -> None:
    """Close every idle pooled sandbox of this process."""
    with _detect_lock:
        pools = list(_pools.values())
    for p in pools:
        p.close()


def _close_idle() -> None:
    with _detect_lock:
        pools = list(_pools.values())
    for p in pools:
        p.close_idle(IDLE_CLOSE_S)


def _forget_after_fork() -> None:
    # A forked copy of the grader does not own its parent's sandboxes: drop them without a word.
    # Locks are new too: another thread of the parent may have held one at the fork.
    global _spawner, _detect_lock
    for p in _pools.values():
        for sb in p._idle:
            sb._close_pipes()
    _pools.clear()
    _spawner = _Spawner()
    _detect_lock = threading.Lock()


atexit.register(close_sandboxes)
os.register_at_fork(after_in_child=_forget_after_fork)
