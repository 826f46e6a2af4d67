"""Isolation layers for the code sandbox, computed on the host and applied by ``runner.py``.

What is here:

* the two seccomp BPF programs, assembled with ``struct`` (no libseccomp):
  - the *zygote* filter, inherited by everything in the sandbox: no sockets, exec, ptrace,
    process_vm_*, pidfds, tkill, setsid/setpgid (so killing the process group reaches every
    process), mounts, namespaces, bpf, perf, io_uring, userfaultfd, keyrings, clock setting, module
    loading, SysV IPC and POSIX message queues, handle-based opens, TIOCSTI, F_SETOWN (SIGIO to
    another process), the x32 ABI;
    prlimit64 and scheduling calls only on the caller; clone3 fails with ENOSYS (glibc then falls
    back to clone, whose flags a filter can check); unknown architectures are killed;
  - the *child* filter, added in each test process (kept small: it is installed per test): no
    fork/vfork, no clone without CLONE_THREAD or with namespace flags (threads work), signals only
    to its own pid (patched in after fork);
* the Landlock rules of the fallback layer (read-only Python runtime, no writes anywhere, no
  TCP, signals and abstract unix sockets scoped) and a probe of the kernel's Landlock ABI;
* the bubblewrap command line of the namespace layer.

What is not: a policy *allowlist* (this is a denylist of dangerous calls; everything else a Python
program needs stays allowed), cgroups (not delegated here, so memory is bounded by RLIMIT_AS and
the thread count only by memory and time), and architectures other than x86_64 and aarch64.
"""

from __future__ import annotations

import functools
import os
import platform
import shutil
import struct
import sys
import sysconfig
from dataclasses import dataclass

# -- classic BPF ---------------------------------------------------------------------------------
LD_W_ABS = 0x20
JEQ_K = 0x15
JGE_K = 0x35
JSET_K = 0x45
RET_K = 0x06
RET_ALLOW = 0x7FFF0000
RET_KILL_PROCESS = 0x80000000
RET_ERRNO = 0x00050000
EPERM, ENOSYS = 1, 38
# offsets in struct seccomp_data (little endian: the low half of an argument comes first)
OFF_NR, OFF_ARCH = 0, 4


def _arg_lo(i: int) -> int:
    return 16 + 8 * i


def _arg_hi(i: int) -> int:
    return 20 + 8 * i


CLONE_THREAD = 0x00010000
# CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000
TIOCSTI, TIOCLINUX = 0x5412, 0x541C
FIOSETOWN, SIOCSPGRP = 0x8901, 0x8902
F_SETOWN, F_SETOWN_EX = 8, 15
X32_SYSCALL_BIT = 0x40000000


@dataclass(frozen=True)
class Arch:
    name: str
    audit: int
    nr: dict[str, int]


# Numbers from the kernel uapi headers (asm/unistd_64.h for x86_64, asm-generic/unistd.h for aarch64).
_X86_64 = {
    "socket": 41, "socketpair": 53, "connect": 42, "bind": 49, "listen": 50, "accept": 43, "accept4": 288,
    "clone": 56, "fork": 57, "vfork": 58, "execve": 59, "execveat": 322, "clone3": 435,
    "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272, "setns": 308,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428, "mount_setattr": 442,
    "bpf": 321, "perf_event_open": 298, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "keyctl": 250, "add_key": 248, "request_key": 249,
    "settimeofday": 164, "clock_settime": 227, "adjtimex": 159, "clock_adjtime": 305,
    "reboot": 169, "kexec_load": 246, "kexec_file_load": 320, "init_module": 175, "finit_module": 313,
    "delete_module": 176, "swapon": 167, "swapoff": 168, "acct": 163, "quotactl": 179, "quotactl_fd": 443,
    "setpgid": 109, "setsid": 112, "prlimit64": 302, "setpriority": 141, "sched_setaffinity": 203,
    "sched_setscheduler": 144, "sched_setparam": 142, "ioprio_set": 251, "migrate_pages": 256, "move_pages": 279,
    "kcmp": 312, "process_madvise": 440, "process_mrelease": 448, "personality": 135, "mknod": 133, "mknodat": 259,
    "name_to_handle_at": 303, "open_by_handle_at": 304, "pidfd_send_signal": 424, "pidfd_open": 434,
    "pidfd_getfd": 438, "ioctl": 16, "shmget": 29, "shmat": 30, "shmctl": 31, "semget": 64, "semop": 65, "semctl": 66,
    "semtimedop": 220, "msgget": 68, "msgsnd": 69, "msgrcv": 70, "msgctl": 71, "mq_open": 240, "mq_unlink": 241,
    "mq_timedsend": 242, "mq_timedreceive": 243, "mq_notify": 244, "mq_getsetattr": 245,
    "iopl": 172, "ioperm": 173, "syslog": 103, "vhangup": 153, "lookup_dcookie": 212, "fanotify_init": 300,
    "uselib": 134, "ustat": 136, "sysfs": 139, "_sysctl": 156, "nfsservctl": 180, "capset": 126, "fcntl": 72,
}
_AARCH64 = {
    "socket": 198, "socketpair": 199, "connect": 203, "bind": 200, "listen": 201, "accept": 202, "accept4": 242,
    "clone": 220, "execve": 221, "execveat": 281, "clone3": 435,
    "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138, "rt_tgsigqueueinfo": 240,
    "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
    "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
    "fsopen": 430, "fsconfig": 431, "fsmount": 432, "fspick": 433, "move_mount": 429, "open_tree": 428, "mount_setattr": 442,
    "bpf": 280, "perf_event_open": 241, "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "keyctl": 219, "add_key": 217, "request_key": 218,
    "settimeofday": 170, "clock_settime": 112, "adjtimex": 171, "clock_adjtime": 266,
    "reboot": 142, "kexec_load": 104, "kexec_file_load": 294, "init_module": 105, "finit_module": 273,
    "delete_module": 106, "swapon": 224, "swapoff": 225, "acct": 89, "quotactl": 60, "quotactl_fd": 443,
    "setpgid": 154, "setsid": 157, "prlimit64": 261, "setpriority": 140, "sched_setaffinity": 122,
    "sched_setscheduler": 119, "sched_setparam": 118, "ioprio_set": 30, "migrate_pages": 238, "move_pages": 239,
    "kcmp": 272, "process_madvise": 440, "process_mrelease": 448, "personality": 92, "mknodat": 33,
    "name_to_handle_at": 264, "open_by_handle_at": 265, "pidfd_send_signal": 424, "pidfd_open": 434,
    "pidfd_getfd": 438, "ioctl": 29, "shmget": 194, "shmat": 196, "shmctl": 195, "semget": 190, "semop": 193, "semctl": 191,
    "semtimedop": 192, "msgget": 186, "msgsnd": 189, "msgrcv": 188, "msgctl": 187, "mq_open": 180, "mq_unlink": 181,
    "mq_timedsend": 182, "mq_timedreceive": 183, "mq_notify": 184, "mq_getsetattr": 185,
    "syslog": 116, "vhangup": 58, "lookup_dcookie": 18, "fanotify_init": 262, "nfsservctl": 42, "capset": 91, "fcntl": 25,
}
ARCHES = {
    "x86_64": Arch("x86_64", 0xC000003E, _X86_64),
    "aarch64": Arch("aarch64", 0xC00000B7, _AARCH64),
}

# Denied for everything in the sandbox, the zygote included.
ZYGOTE_DENY = (
    "socket", "socketpair", "connect", "bind", "listen", "accept", "accept4", "execve", "execveat", "ptrace",
    "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_getfd", "pidfd_send_signal", "tkill",
    "setsid", "setpgid", "mount", "umount2", "pivot_root", "chroot", "unshare", "setns", "fsopen", "fsconfig",
    "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr", "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl", "add_key", "request_key",
    "settimeofday", "clock_settime", "adjtimex", "clock_adjtime", "reboot", "kexec_load", "kexec_file_load",
    "init_module", "finit_module", "delete_module", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd",
    "ioprio_set", "migrate_pages", "move_pages", "kcmp", "process_madvise", "process_mrelease", "personality",
    "mknod", "mknodat", "name_to_handle_at", "open_by_handle_at", "shmget", "shmat", "shmctl", "semget",
    "semop", "semctl", "semtimedop", "msgget", "msgsnd", "msgrcv", "msgctl", "mq_open", "mq_unlink",
    "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr", "iopl", "ioperm", "syslog", "vhangup",
    "lookup_dcookie", "fanotify_init", "uselib", "ustat", "sysfs", "_sysctl", "nfsservctl",
)
# Denied in test processes only: the zygote forks and kills its children with these.
CHILD_DENY = ("fork", "vfork")


class _Asm:
    """A tiny classic-BPF assembler: forward jumps to labels, resolved at the end."""

    def __init__(self) -> None:
        self.insns: list[list] = []  # [code, jt, jf, k]; jt/jf may be label names
        self.labels: dict[str, int] = {}
        self.pid_slots: list[int] = []

    def emit(self, code: int, k: int = 0, jt: int | str = 0, jf: int | str = 0) -> int:
        self.insns.append([code, jt, jf, k])
        return len(self.insns) - 1

    def label(self, name: str) -> None:
        self.labels[name] = len(self.insns)

    def assemble(self) -> bytes:
        out = bytearray()
        for i, (code, jt, jf, k) in enumerate(self.insns):
            offs = []
            for j in (jt, jf):
                target = self.labels[j] - i - 1 if isinstance(j, str) else j
                if not 0 <= target <= 255:
                    raise ValueError(f"BPF jump out of range at {i}")
                offs.append(target)
            out += struct.pack("=HBBI", code, offs[0], offs[1], k)
        return bytes(out)


def _prologue(asm: _Asm, arch: Arch) -> None:
    asm.emit(LD_W_ABS, OFF_ARCH)
    asm.emit(JEQ_K, arch.audit, jt=1)
    asm.emit(RET_K, RET_KILL_PROCESS)
    asm.emit(LD_W_ABS, OFF_NR)
    if arch.name == "x86_64":
        # x32 syscalls carry bit 30 and would otherwise slip past every number below
        asm.emit(JGE_K, X32_SYSCALL_BIT, jf=1)
        asm.emit(RET_K, RET_KILL_PROCESS)


def _deny(asm: _Asm, nr: int, errno: int = EPERM) -> None:
    asm.emit(JEQ_K, nr, jf=1)
    asm.emit(RET_K, RET_ERRNO | errno)


def _guard(asm: _Asm, nr: int, name: str, zero: tuple[int, ...] = (), own_pid: int | None = None) -> None:
    """Allow ``nr`` only if each argument in ``zero`` is 0 and argument ``own_pid`` is the caller's pid.

    The pid is a placeholder here; ``runner.py`` writes the real one into ``asm.pid_slots`` after fork.
    """
    deny = f"{name}.deny"
    asm.emit(JEQ_K, nr, jf=f"{name}.next")
    for i in zero:
        for off in (_arg_hi(i), _arg_lo(i)):
            asm.emit(LD_W_ABS, off)
            asm.emit(JEQ_K, 0, jf=deny)
    if own_pid is None:
        asm.emit(RET_K, RET_ALLOW)
    else:
        asm.emit(LD_W_ABS, _arg_hi(own_pid))
        asm.emit(JEQ_K, 0, jf=deny)  # a negative pid (group, "everyone") has the high half set
        asm.emit(LD_W_ABS, _arg_lo(own_pid))
        asm.pid_slots.append(asm.emit(JEQ_K, 0xFFFFFFFF, jt=f"{name}.allow"))
    asm.label(deny)
    asm.emit(RET_K, RET_ERRNO | EPERM)
    if own_pid is not None:
        asm.label(f"{name}.allow")
        asm.emit(RET_K, RET_ALLOW)
    asm.label(f"{name}.next")


def _deny_arg(asm: _Asm, nr: int, name: str, arg: int, values: tuple[int, ...]) -> None:
    """Deny ``nr`` when (the low half of) argument ``arg`` is one of ``values``."""
    asm.emit(JEQ_K, nr, jf=f"{name}.next")
    asm.emit(LD_W_ABS, _arg_lo(arg))
    for value in values:
        asm.emit(JEQ_K, value, jt=f"{name}.deny")
    asm.emit(RET_K, RET_ALLOW)
    asm.label(f"{name}.deny")
    asm.emit(RET_K, RET_ERRNO | EPERM)
    asm.label(f"{name}.next")


def zygote_filter(arch: Arch) -> bytes:
    asm = _Asm()
    _prologue(asm, arch)
    for name in ZYGOTE_DENY:
        if name in arch.nr:
            _deny(asm, arch.nr[name])
    # glibc creates threads with clone3 and falls back to clone on ENOSYS, where flags can be checked
    _deny(asm, arch.nr["clone3"], ENOSYS)
    # prlimit64 of another process could lower the grader's limits (same uid under Landlock)
    _guard(asm, arch.nr["prlimit64"], "prlimit64", zero=(0,))
    # scheduling calls may only target the caller (pid 0); setpriority's "which" must be PRIO_PROCESS
    _guard(asm, arch.nr["setpriority"], "setpriority", zero=(0, 1))
    for name in ("sched_setaffinity", "sched_setscheduler", "sched_setparam"):
        _guard(asm, arch.nr[name], name, zero=(0,))
    # ioctl TIOCSTI/TIOCLINUX can push keystrokes into a terminal; FIOSETOWN/SIOCSPGRP and
    # fcntl F_SETOWN(_EX) would make the kernel send SIGIO to another process (the zygote)
    _deny_arg(asm, arch.nr["ioctl"], "ioctl", 1, (TIOCSTI, TIOCLINUX, FIOSETOWN, SIOCSPGRP))
    _deny_arg(asm, arch.nr["fcntl"], "fcntl", 1, (F_SETOWN, F_SETOWN_EX))
    asm.emit(RET_K, RET_ALLOW)
    return asm.assemble()


def child_filter(arch: Arch) -> tuple[bytes, list[int]]:
    """The per-test filter and the indices of the instructions that must hold the child's pid."""
    asm = _Asm()
    _prologue(asm, arch)
    for name in CHILD_DENY:
        if name in arch.nr:
            _deny(asm, arch.nr[name])
    # clone: threads only (CLONE_THREAD set, no namespace flags)
    asm.emit(JEQ_K, arch.nr["clone"], jf="clone.next")
    asm.emit(LD_W_ABS, _arg_lo(0))
    asm.emit(JSET_K, CLONE_NAMESPACES, jt="clone.deny")
    asm.emit(JSET_K, CLONE_THREAD, jt="clone.allow")
    asm.label("clone.deny")
    asm.emit(RET_K, RET_ERRNO | EPERM)
    asm.label("clone.allow")
    asm.emit(RET_K, RET_ALLOW)
    asm.label("clone.next")
    # signals only to itself: kill(0)/kill(-1)/the zygote/other sandboxes are refused
    for name in ("kill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo"):
        _guard(asm, arch.nr[name], name, own_pid=0)
    asm.emit(RET_K, RET_ALLOW)
    return asm.assemble(), asm.pid_slots


def host_arch() -> Arch | None:
    machine = platform.machine().lower()
    return ARCHES.get({"amd64": "x86_64", "arm64": "aarch64"}.get(machine, machine))


# -- Landlock ----------------------------------------------------------------------------------------
LL_EXECUTE, LL_WRITE_FILE, LL_READ_FILE, LL_READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
LL_NET_BIND_TCP, LL_NET_CONNECT_TCP = 1 << 0, 1 << 1
LL_SCOPE_ABSTRACT_UNIX_SOCKET, LL_SCOPE_SIGNAL = 1 << 0, 1 << 1
LANDLOCK_CREATE_RULESET_VERSION = 1 << 0


@functools.lru_cache(maxsize=1)
def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when Landlock is missing or disabled."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(444, None, ctypes.c_size_t(0), LANDLOCK_CREATE_RULESET_VERSION)
    return max(0, int(abi))


def _handled_fs(abi: int) -> int:
    bits = 13 if abi < 2 else 14 if abi < 3 else 15 if abi < 5 else 16
    return (1 << bits) - 1


def runtime_paths() -> list[str]:
    """Read-only paths the interpreter needs: its prefix, stdlib, shared libraries."""
    exe = os.path.realpath(sys.executable)
    paths = [sys.base_prefix, os.path.dirname(os.path.dirname(exe))]
    for key in ("stdlib", "platstdlib"):
        paths.append(sysconfig.get_path(key, vars={"base": sys.base_prefix, "platbase": sys.base_prefix}))
    libdir = sysconfig.get_config_var("LIBDIR")
    if libdir:
        paths.append(libdir)
    out: list[str] = []
    for p in paths:
        p = os.path.realpath(p)
        if p and os.path.isdir(p) and not any(p == q or p.startswith(q.rstrip("/") + "/") for q in out):
            out = [q for q in out if not q.startswith(p.rstrip("/") + "/")] + [p]
    return out


# Pure-Python packages LeetCode's judge offers (reference solutions use them). When installed here,
# the zygote imports them once, so programs can import them.
PRELOAD_PACKAGES = ("sortedcontainers",)
# Packages LeetCode's judge and LiveCodeBench's grader also offer, imported only by the programs that ask
# for them, in their own test process: numpy is a C extension, and preloaded it would make every zygote
# some 20 MB larger and so every fork, for every program, slower. Nothing else outside the stdlib.
ON_DEMAND_PACKAGES = ("numpy",)


def _package_dirs(names: tuple[str, ...]) -> dict[str, str]:
    import importlib.util

    found = {}
    for name in names:
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.submodule_search_locations:
            found[name] = os.path.realpath(next(iter(spec.submodule_search_locations)))
    return found


@functools.lru_cache(maxsize=1)
def preload_packages() -> dict[str, str]:
    """{name: package directory} of the ``PRELOAD_PACKAGES`` installed for this interpreter."""
    return _package_dirs(PRELOAD_PACKAGES)


@functools.lru_cache(maxsize=1)
def on_demand_packages() -> dict[str, str]:
    """{name: package directory} of the ``ON_DEMAND_PACKAGES`` installed for this interpreter."""
    return _package_dirs(ON_DEMAND_PACKAGES)


@functools.lru_cache(maxsize=1)
def package_binds() -> dict[str, str]:
    """{host directory: name under SANDBOX_PACKAGES} of every package the sandbox can see, with the
    ``<name>.libs`` folder next to it where there is one (wheels keep their shared libraries there and
    find them by a path relative to the package)."""
    binds = {}
    for name, path in {**preload_packages(), **on_demand_packages()}.items():
        binds[path] = name
        libs = os.path.join(os.path.dirname(path), f"{name}.libs")
        if os.path.isdir(libs):
            binds[os.path.realpath(libs)] = f"{name}.libs"
    return binds


def _as_seen(layer: str, packages: dict[str, str]) -> dict[str, str]:
    if layer != "bwrap":
        return packages
    return {name: f"{SANDBOX_PACKAGES}/{name}" for name in packages}


def sandbox_preload(layer: str) -> dict[str, str]:
    """{name: directory} of the preloaded packages as the sandboxed runner sees them.

    Under bubblewrap they are bound at a fixed place, not at their host path: a host path under /tmp (a venv
    in a temporary checkout, say) would be hidden by the sandbox's private /tmp.
    """
    return _as_seen(layer, preload_packages())


def sandbox_on_demand(layer: str) -> dict[str, str]:
    """{name: directory} of the on-demand packages as the sandboxed runner sees them (see ``sandbox_preload``)."""
    return _as_seen(layer, on_demand_packages())


def landlock_config(abi: int) -> dict:
    read_dir = LL_EXECUTE | LL_READ_FILE | LL_READ_DIR
    rules = [[p, read_dir] for p in (*runtime_paths(), *package_binds(), "/usr", "/lib", "/lib64", "/lib32")]
    rules += [["/etc/ld.so.cache", LL_READ_FILE], ["/dev/null", LL_READ_FILE | LL_WRITE_FILE]]
    rules += [["/dev/urandom", LL_READ_FILE], ["/dev/random", LL_READ_FILE], ["/dev/zero", LL_READ_FILE]]
    return {
        "abi": abi,
        "handled_fs": _handled_fs(abi),
        "handled_net": (LL_NET_BIND_TCP | LL_NET_CONNECT_TCP) if abi >= 4 else 0,
        "scoped": (LL_SCOPE_ABSTRACT_UNIX_SOCKET | LL_SCOPE_SIGNAL) if abi >= 6 else 0,
        "rules": rules,
    }


# -- bubblewrap --------------------------------------------------------------------------------------
SANDBOX_RUNNER = "/.sandbox/runner.py"
SANDBOX_PACKAGES = "/.sandbox/packages"


@functools.lru_cache(maxsize=1)
def bwrap_path() -> str | None:
    return shutil.which("bwrap") or next((p for p in ("/usr/bin/bwrap", "/bin/bwrap") if os.access(p, os.X_OK)), None)


@functools.lru_cache(maxsize=1)
def _bwrap_has_disable_userns(bwrap: str) -> bool:
    import subprocess

    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.SubprocessError):
        return False
    return "--disable-userns" in out.stdout + out.stderr


def bwrap_argv(bwrap: str, python: str, runner: str, info_fd: int, tmpfs_bytes: int) -> list[str]:
    """The namespace layer: nothing of the host but a read-only runtime, a private /tmp, no network."""
    argv = [bwrap, "--unshare-all", "--unshare-user", "--die-with-parent", "--new-session", "--clearenv"]
    if _bwrap_has_disable_userns(bwrap):
        argv.append("--disable-userns")
    argv += ["--setenv", "MALLOC_ARENA_MAX", "2", "--info-fd", str(info_fd)]
    for top in ("bin", "lib", "lib64", "lib32", "sbin"):
        path = f"/{top}"
        if os.path.islink(path):
            argv += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            argv += ["--ro-bind", path, path]
    bound = ["/usr"]
    argv += ["--ro-bind", "/usr", "/usr"]
    for p in runtime_paths():
        if not any(p == b or p.startswith(b + "/") for b in bound):
            argv += ["--ro-bind", p, p]
            bound.append(p)
    for path, name in package_binds().items():
        argv += ["--ro-bind", path, f"{SANDBOX_PACKAGES}/{name}"]
    argv += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    argv += ["--ro-bind", runner, SANDBOX_RUNNER]
    # no /proc on purpose: nothing in it is needed, and it is the way to other processes' memory
    argv += ["--dev", "/dev", "--remount-ro", "/dev", "--size", str(tmpfs_bytes), "--tmpfs", "/tmp"]
    # bwrap builds / (and /dev) on an unbounded tmpfs: read-only, so /tmp is the only place to write
    argv += ["--remount-ro", "/", "--chdir", "/tmp"]
    argv += ["--", python, "-I", "-S", "-X", "utf8", "-B", SANDBOX_RUNNER]
    return argv


def python_executable() -> str:
    """The real interpreter binary (never a venv link or a pyenv shim; see the sandbox notes)."""
    base = getattr(sys, "_base_executable", None) or sys.executable
    return os.path.realpath(base)
