"""The program that runs INSIDE the sandbox: a zygote that forks one fresh child per test.

Started by ``sandbox.py`` as ``python -I -S -X utf8 -B runner.py`` (under bubblewrap, or directly
with Landlock). It talks to the grader over two pipes with length-prefixed frames and:

* applies the isolation it is told to apply, once, before it serves anything: Landlock (fallback
  layer), no capabilities, not dumpable (no ptrace or /proc/<pid>/mem of it), rlimits shared by all
  tests, and the zygote seccomp filter (see ``isolation.py``);
* compiles a program once (``load``) and, for every test, forks a child from that pristine state.
  The child gets the test input on a memfd as fd 0, fresh memfds for stdout/stderr/result, its
  own rlimits (AS, CPU, FSIZE) and the child seccomp filter (no fork, signals only to itself), and
  then runs the program like ``python solution.py`` would (or calls the function, for call tests);
* enforces the per-test deadline by SIGKILLing its own child, reaps it with ``wait4`` and returns
  raw bytes: stdout, or the function's result as JSON, plus how the process ended. The grader has
  its own, later deadline and kills the whole sandbox if this process stops answering;
* empties the private ``/tmp`` after every test (bubblewrap layer).

It never sees an expected output and never compares anything: that is the grader's job. Untrusted
code only ever runs in the forked children, never in this process; the children cannot signal,
trace or read this process, and the control pipes are closed in them.

Not covered here: anything host side (spawning, namespaces, the outer deadline, comparison).
This file must stay importable on its own with the standard library only (the grader imports
its pure helpers to canonicalise expected linked lists and trees), and must not import the rest
of ``verl_pipeline``: inside the sandbox only this file and the standard library exist.
"""

import atexit
import builtins
import collections
import fcntl
import gc
import json
import math
import os
import resource
import signal
import struct
import sys
import time

# -- wire protocol (shared with sandbox.py) -------------------------------------------------------
# frame = <u32 header length><u64 blob length><header JSON><blob>
FRAME = struct.Struct("<IQ")
# reply to a run: exit code (-1: signalled), signal (0: none), timed out, output over the cap,
# /tmp could not be emptied, the child's set-up failed (before any untrusted code), wall s, cpu s, max RSS KiB, stdout bytes, result bytes; then the
# stderr tail (the rest of the header) and, as the blob, stdout or the result JSON
RUN_REPLY = struct.Struct("<ciiBBBBddqQQ")  # starts with b"R": an error reply is JSON ("{")
# the test process's stdin, stdout, stderr and result (JSON) are these fds, in the zygote too
TEST_FDS = ("stdin", "stdout", "stderr", "result")
# the main-thread stack the children may grow into; fixed when the interpreter is exec'd
MAIN_STACK_BYTES = 1 << 30
# what a thread gets unless the program asks for more (glibc would use RLIMIT_STACK, i.e. 1 GiB)
THREAD_STACK_BYTES = 8 << 20
STDERR_TAIL = 2048
MAX_NODES = 1_000_000
# the result the grader gets when the returned value has no JSON form (NaN, a custom object...)
UNUSABLE = "$unusable"
# exit code of a child whose sandbox set-up failed (before any untrusted code ran). Only a hint in
# the logs: the verdict comes from SETUP_FD, which a program cannot write (see Zygote._child).
SETUP_FAILED = 121
# in a child, the write end of a pipe to the zygote: one byte once set-up is complete, then closed
SETUP_FD = len(TEST_FDS)

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_SECCOMP = 22
PR_SET_NO_NEW_PRIVS = 38
SECCOMP_MODE_FILTER = 2
LINUX_CAPABILITY_VERSION_3 = 0x20080522
LANDLOCK_CREATE_RULESET, LANDLOCK_ADD_RULE, LANDLOCK_RESTRICT_SELF = 444, 445, 446
LANDLOCK_RULE_PATH_BENEATH = 1


# -- LeetCode helpers, visible to call-based programs ----------------------------------------------
class ListNode:
    def __init__(self, val=0, next=None):
        self.val = val
        self.next = next


class TreeNode:
    def __init__(self, val=0, left=None, right=None):
        self.val = val
        self.left = left
        self.right = right


def list_node(values):
    head = None
    for v in reversed(values):
        head = ListNode(v, head)
    return head


def tree_node(values):
    """Build a tree from LeetCode's level order (``None`` = no child)."""
    if not values:
        return None
    root = TreeNode(values[0])
    queue = collections.deque([root])
    i = 1
    while queue and i < len(values):
        node = queue.popleft()
        if i < len(values) and values[i] is not None:
            node.left = TreeNode(values[i])
            queue.append(node.left)
        i += 1
        if i < len(values) and values[i] is not None:
            node.right = TreeNode(values[i])
            queue.append(node.right)
        i += 1
    return root


def is_same_list(a, b):
    return to_wire(a) == to_wire(b)


def is_same_tree(a, b):
    return to_wire(a) == to_wire(b)


def to_wire(x, tagged_tuples=False):
    """A program's value as plain JSON data: exact builtin types, nodes tagged, no NaN.

    Raises ``TypeError``/``ValueError`` for anything that has no faithful JSON form (sets, custom
    objects, non-finite floats, non-string keys): such a result is a wrong answer, never "equal".
    ``tagged_tuples``: a tuple becomes ``{"$tuple": [...]}`` instead of a list, and a dict key that
    starts with ``$`` gets one more ``$`` so that no dict can pass for a tuple (``compare.py``
    undoes both); LiveCodeBench's grader compares the returned object, where a tuple is no list.
    """
    t = type(x)
    if x is None or t is bool or t is str or t is int:
        return x
    if t is float:
        if not math.isfinite(x):
            raise ValueError("result contains a non-finite float")
        return x
    if t is list or (t is tuple and not tagged_tuples):
        return [to_wire(v, tagged_tuples) for v in x]
    if t is tuple:
        return {"$tuple": [to_wire(v, tagged_tuples) for v in x]}
    if t is dict:
        out = {}
        for k, v in x.items():
            if type(k) is not str:
                raise TypeError(f"result dict has a {type(k).__name__} key")
            out["$" + k if tagged_tuples and k.startswith("$") else k] = to_wire(v, tagged_tuples)
        return out
    if hasattr(x, "val") and hasattr(x, "next"):
        values = []
        while x is not None:
            if len(values) >= MAX_NODES:
                raise ValueError("linked list too long or cyclic")
            values.append(to_wire(x.val))
            x = x.next
        return {"$list": values}
    if hasattr(x, "val") and hasattr(x, "left") and hasattr(x, "right"):
        values, queue = [], collections.deque([x])
        while queue:
            node = queue.popleft()
            if node is None:
                values.append(None)
                continue
            if len(values) >= MAX_NODES:
                raise ValueError("tree too large or cyclic")
            values.append(to_wire(node.val))
            queue.append(node.left)
            queue.append(node.right)
        while values and values[-1] is None:
            values.pop()
        return {"$tree": values}
    # subclasses of the builtin types: keep the plain value (their methods never reach the grader)
    for base in (bool, int, float, str):
        if isinstance(x, base):
            return to_wire(base(x))
    if isinstance(x, (list, tuple)):
        return to_wire((list if isinstance(x, list) else tuple)(x), tagged_tuples)
    raise TypeError(f"result of type {t.__name__} has no JSON form")


def from_wire(x):
    """Inverse of ``to_wire`` for arguments: tagged lists and trees become nodes."""
    if type(x) is list:
        return [from_wire(v) for v in x]
    if type(x) is dict:
        if len(x) == 1 and "$list" in x:
            return list_node(x["$list"])
        if len(x) == 1 and "$tree" in x:
            return tree_node(x["$tree"])
        return {k: from_wire(v) for k, v in x.items()}
    return x


# What call-based programs (LiveCodeBench/LeetCode/TACO functional) may use without importing,
# as in LiveCodeBench's harness; the last star import restores builtins that others shadow (pow).
# -- the names every program starts with ------------------------------------------------------------
# LiveCodeBench's grader and DeepCoder's (rLLM's) reward run every program, stdin or call-based, after
# these star imports, in this order: a later module's name wins (``sub`` is ``operator.sub``, not
# ``re.sub``; ``pow`` and ``compile`` are the builtins again after ``from builtins import *``).
# Only standard-library modules any program may import itself: the prelude adds names, no access.
PRELUDE_MODULES = ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math",
                   "random", "statistics", "itertools", "functools", "operator", "io", "sys", "json",
                   "builtins", "typing")
PRELUDE = "".join(f"from {m} import *\n" for m in PRELUDE_MODULES) + "import " + ", ".join(PRELUDE_MODULES) + "\n"
# Imported by a test's child, and only for a program that names one of the names they bind: in the
# zygote they would make every fork dearer, for the many programs that never use them (random registers
# an at-fork reseed: measured +0.45 ms per test, ~40% of a fork; statistics imports random). A child
# binds exactly what the whole prelude would have bound (``lazy_prelude_bindings``). The others are
# cheap to fork; copy must be eager: its import looks for Jython's ``org.python.core`` (~2 ms).
LAZY_PRELUDE_MODULES = ("random", "statistics")
EAGER_PRELUDE_MODULES = tuple(m for m in PRELUDE_MODULES if m not in LAZY_PRELUDE_MODULES)
EAGER_PRELUDE = (
    "".join(f"from {m} import *\n" for m in EAGER_PRELUDE_MODULES) + "import " + ", ".join(EAGER_PRELUDE_MODULES) + "\n"
)
# A program that names one of these can reach prelude names it never spells (eval("mean(a)"),
# globals()["deepcopy"], dir(), the __main__ module's dict ...): it gets every lazy module.
DYNAMIC_LOOKUP_NAMES = frozenset({
    "eval", "exec", "compile", "globals", "locals", "vars", "dir", "__import__", "__main__", "modules",
    "f_globals", "__globals__", "__dict__", "breakpoint", "help", "get_type_hints",
})


def _star_exports(module):
    """The names ``from module import *`` binds."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return [name for name in vars(module) if not name.startswith("_")]


def lazy_prelude_bindings():
    """{lazy module: the names whose binding in the whole prelude comes from it}, sorted.

    Computed by the grader, which may import anything; the zygote gets it in its init message and never
    imports a lazy module itself. The closing ``import`` line binds each module's own name to the module.
    """
    import importlib

    owner = {}
    for name in PRELUDE_MODULES:  # in the prelude's order: a later module's binding wins
        for exported in _star_exports(importlib.import_module(name)):
            owner[exported] = name
    for name in PRELUDE_MODULES:
        owner[name] = None
    return {m: sorted(n for n, o in owner.items() if o == m) for m in LAZY_PRELUDE_MODULES}


def lazy_imports_for(names, lazy_prelude):
    """((module, names it binds), ...) of the lazy modules a program that names ``names`` may look up."""
    every = looks_up_dynamically(names)
    return tuple(
        (module, tuple(bound)) for module, bound in lazy_prelude.items()
        if every or module in names or not names.isdisjoint(bound)
    )


def looks_up_dynamically(names):
    return not names.isdisjoint(DYNAMIC_LOOKUP_NAMES)


def names_in(code):
    """Every name ``code`` or a function or class inside it can look up (global, attribute or import)."""
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if type(k) is type(c))
    return names


class _Quitter:
    """``exit()``/``quit()`` as site.py defines them (we run with -S, so site never does)."""

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"Use {self.name}() or Ctrl-D (i.e. EOF) to exit"

    def __call__(self, code=None):
        raise SystemExit(code)


# -- framing ---------------------------------------------------------------------------------------
def _read_exact(fd, n):
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            raise EOFError("grader closed the channel")
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def recv(fd):
    """One request: (header dict, blob); an empty header is a ``run`` (the hot path skips JSON)."""
    hlen, blen = FRAME.unpack(_read_exact(fd, FRAME.size))
    header = json.loads(_read_exact(fd, hlen)) if hlen else None
    return header, _read_exact(fd, blen) if blen else b""


def send(fd, header, blob=b""):
    head = header if isinstance(header, bytes) else json.dumps(header).encode()
    data = memoryview(FRAME.pack(len(head), len(blob)) + head + blob)
    while data:
        data = data[os.write(fd, data) :]


# -- isolation applied to this process (all children inherit it) ----------------------------------
class _Kernel:
    """The few syscalls Python has no wrapper for, through ctypes."""

    def __init__(self):
        import ctypes

        self.ctypes = ctypes
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4
        # no argtypes (it takes ready-made ctypes objects) and no errno copying: the cheapest call
        self.raw_prctl = ctypes.CDLL(None).prctl
        self.libc.syscall.restype = ctypes.c_long

        class SockFprog(ctypes.Structure):
            _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

        self.SockFprog = SockFprog

    def check(self, ret, what):
        if ret < 0:
            err = self.ctypes.get_errno()
            raise OSError(err, f"{what}: {os.strerror(err)}")
        return ret

    def prctl(self, option, a=0, b=0, c=0, d=0):
        return self.check(self.libc.prctl(option, a, b, c, d), f"prctl({option})")

    def syscall(self, nr, *args):
        return self.check(self.libc.syscall(nr, *args), f"syscall({nr})")

    def filter_prog(self, program: bytes):
        """A (buffer, sock_fprog) pair; the buffer stays writable so children can patch their pid."""
        buf = self.ctypes.create_string_buffer(program, len(program))
        prog = self.SockFprog(len(program) // 8, self.ctypes.addressof(buf))
        return buf, prog

    def install_filter(self, prog):
        self.prctl(PR_SET_NO_NEW_PRIVS, 1)
        self.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, self.ctypes.addressof(prog))

    def seccomp_filter(self, *ctypes_args):
        """prctl(PR_SET_SECCOMP, ...) with arguments already converted (cheap in a fresh child)."""
        if self.raw_prctl(*ctypes_args) != 0:
            raise OSError("prctl(PR_SET_SECCOMP) failed")

    def drop_capabilities(self, capset_nr):
        ctypes = self.ctypes
        header = ctypes.create_string_buffer(struct.pack("=Ii", LINUX_CAPABILITY_VERSION_3, 0))
        data = ctypes.create_string_buffer(bytes(24))  # 2 x {effective, permitted, inheritable}
        self.syscall(capset_nr, header, data)

    def landlock(self, cfg):
        """Restrict this process (and its future children) to the rules in ``cfg``."""
        ctypes = self.ctypes
        abi = cfg["abi"]
        size = 8 if abi < 4 else 16 if abi < 6 else 24
        attr = struct.pack("=QQQ", cfg["handled_fs"], cfg["handled_net"], cfg["scoped"])[:size]
        attr_buf = ctypes.create_string_buffer(attr, size)
        ruleset = self.syscall(LANDLOCK_CREATE_RULESET, attr_buf, ctypes.c_size_t(size), 0)
        try:
            for path, access in cfg["rules"]:
                try:
                    fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
                except FileNotFoundError:
                    continue
                try:
                    rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
                    self.syscall(LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH, rule, 0)
                finally:
                    os.close(fd)
            self.prctl(PR_SET_NO_NEW_PRIVS, 1)
            self.syscall(LANDLOCK_RESTRICT_SELF, ruleset, 0)
        finally:
            os.close(ruleset)


# -- the zygote ------------------------------------------------------------------------------------
class Zygote:
    """Compiles a program once, then forks one child per test from this pristine state.

    The hot path (``run``) is written to touch few Python objects: after each fork every page this
    process writes faults once more, and a fault costs microseconds.
    """

    def __init__(self, ctl_in, ctl_out, kernel, child_filter, pid_slots, wipe_dir, lazy_prelude):
        self.ctl_in, self.ctl_out = ctl_in, ctl_out
        self.wipe_dir = wipe_dir
        self.empty_dir_size = os.stat(wipe_dir).st_size if wipe_dir else 0
        self.kernel = kernel
        self.child_buf, self.child_prog = kernel.filter_prog(child_filter)
        # the filter as 32-bit words: instruction i's constant is word 2i+1, where the pid goes
        self.child_words = memoryview(self.child_buf).cast("B").cast("I")
        self.pid_words = tuple(2 * slot + 1 for slot in pid_slots)
        c = kernel.ctypes
        self.seccomp_args = (c.c_int(PR_SET_SECCOMP), c.c_ulong(SECCOMP_MODE_FILTER),
                             c.c_ulong(c.addressof(self.child_prog)), c.c_ulong(0), c.c_ulong(0))
        self.code = None
        self.call_globals = None
        self.prelude = None
        self.lazy_prelude = lazy_prelude
        self.lazy_imports = ()
        # the set-up channel: children inherit the write end as SETUP_FD; the read end is closed in them
        setup_r, setup_w = os.pipe()
        self.setup_r = fcntl.fcntl(setup_r, fcntl.F_DUPFD_CLOEXEC, 10)  # out of SETUP_FD's way
        os.close(setup_r)
        _move_fd(setup_w, SETUP_FD)
        os.set_blocking(self.setup_r, False)

    # ---- one program ----
    def load(self, header, blob):
        self.code = None
        if not self._wipe():
            return {"error": "could not empty the private /tmp"}
        self.mode = header["mode"]
        self.fn_name = header.get("fn_name")
        self.fsize = header["limits"]["fsize"]
        self.timeout = float(header["timeout"])
        self.recursion_limit = int(header.get("recursion_limit") or sys.getrecursionlimit())
        # LiveCodeBench's grader swallows SystemExit: the output so far is the answer, whatever the code
        self.exit_is_success = bool(header.get("exit_is_success"))
        self.tagged_tuples = bool(header.get("tagged_tuples"))
        self.int_max_str_digits = header.get("int_max_str_digits")
        memory, cpu = header["limits"]["as"], int(self.timeout) + 1
        nofile_hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
        nofile = header["limits"]["nofile"]
        nofile = nofile if nofile_hard == resource.RLIM_INFINITY else min(nofile, nofile_hard)
        # STACK and CORE are the same for every program and were set in main()
        self.rlimits = (
            (resource.RLIMIT_AS, (memory, memory)),
            (resource.RLIMIT_CPU, (cpu, cpu + 1)),  # a backstop: the wall-clock deadline comes first
            (resource.RLIMIT_FSIZE, (self.fsize, self.fsize)),
            (resource.RLIMIT_NOFILE, (nofile, nofile)),
        )
        source = blob.decode("utf-8", "surrogatepass")  # as the grader encoded it
        # A hostile source could make the compiler allocate without bound; the grader's own
        # deadline covers time, this soft limit covers memory (raised back right after).
        soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        resource.setrlimit(resource.RLIMIT_AS, (min(memory, hard), hard))
        try:
            self.code = compile(source, "<solution>", "exec", dont_inherit=True)
        except (SyntaxError, ValueError, MemoryError, RecursionError, OverflowError) as e:
            return {"ok": False, "error": f"{type(e).__name__}: {e}"}
        finally:
            resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if self.prelude is None:
            # run once here, inside the sandbox, so that no child pays for it; a child gets a copy
            self.prelude = {"__builtins__": builtins}
            exec(EAGER_PRELUDE, self.prelude)  # noqa: S102 - our own constant prelude
            for names in self.lazy_prelude.values():  # an eager module's binding a lazy one overrides
                for name in names:
                    self.prelude.pop(name, None)
        names = names_in(self.code)
        self.lazy_imports = lazy_imports_for(names, self.lazy_prelude)
        if self.mode == "call" and self.call_globals is None:
            g = dict(self.prelude, __name__="solution")
            g.update(
                ListNode=ListNode,
                TreeNode=TreeNode,
                list_node=list_node,
                tree_node=tree_node,
                is_same_list=is_same_list,
                is_same_tree=is_same_tree,
            )
            self.call_globals = g
        # The program's module, filled here once per program: a child runs in its own copy-on-write
        # copy (the zygote never runs the program), so no test pays for copying the prelude's names.
        self.module = type(sys)("solution" if self.mode == "call" else "__main__")
        # Only the prelude names the program names: the same lookups succeed as with all of them, and a
        # small namespace keeps the test's child cheaper (all ~500 names: +10% CPU per trivial test).
        prelude = self.call_globals if self.mode == "call" else self.prelude
        if not looks_up_dynamically(names):
            prelude = {name: prelude[name] for name in names.intersection(prelude)}
        self.module.__dict__.update(prelude, __builtins__=builtins)
        gc.collect()
        gc.freeze()  # children then leave these objects' GC headers alone (fewer copy-on-write faults)
        return {"ok": True}

    # ---- one test ----
    def run(self, blob):
        if self.code is None:
            return {"error": "no program loaded"}, b""
        args = json.loads(blob) if self.mode == "call" else None
        # fresh files for every test, at fds 0-3 of this process so the child simply inherits them
        for target, name in enumerate(TEST_FDS):
            _move_fd(os.memfd_create(name), target)
        if blob and args is None:
            view = memoryview(blob)
            while view:
                view = view[os.write(0, view) :]
            os.lseek(0, 0, os.SEEK_SET)
        try:
            os.read(self.setup_r, 64)  # drop a byte a child of an earlier run left
        except BlockingIOError:
            pass
        start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            self._child(args)  # never returns
        timed_out, status, rusage = self._wait(pid, start + self.timeout)
        wall = time.monotonic() - start
        try:
            setup_failed = not os.read(self.setup_r, 1)
        except BlockingIOError:
            setup_failed = True  # killed or failed before its set-up was complete
        return self._report(timed_out, status, rusage, wall, setup_failed and not timed_out)

    def _wait(self, pid, deadline):
        """Reap ``pid``; SIGKILL it first if it is still running at ``deadline``.

        SIGCHLD is blocked in the zygote, so ``sigtimedwait`` sleeps until a child ends or the
        deadline passes, with no handler that could fire at the wrong moment.
        """
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or signal.sigtimedwait((signal.SIGCHLD,), left) is None:
                os.kill(pid, signal.SIGKILL)  # still our unreaped child, so the pid cannot be reused
                _, status, rusage = os.wait4(pid, 0)
                return True, status, rusage
            reaped, status, rusage = os.wait4(pid, os.WNOHANG)
            if reaped:
                return False, status, rusage

    def _report(self, timed_out, status, rusage, wall, setup_failed):
        seek_end = os.SEEK_END  # sizes by lseek: no stat_result objects in the hot path
        out_size, err_size, res_size = os.lseek(1, 0, seek_end), os.lseek(2, 0, seek_end), os.lseek(3, 0, seek_end)
        ole = out_size >= self.fsize or res_size >= self.fsize
        head = RUN_REPLY.pack(
            b"R",
            os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
            os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
            timed_out,
            ole,
            not self._wipe(),
            setup_failed,
            wall,
            rusage.ru_utime + rusage.ru_stime,
            rusage.ru_maxrss,
            out_size,
            res_size,
        )
        head += os.pread(2, STDERR_TAIL, max(0, err_size - STDERR_TAIL))
        fd, size = (3, res_size) if self.mode == "call" else (1, out_size)
        return head, (os.pread(fd, size, 0) if size and not ole else b"")

    def _wipe(self):
        """Empty the private /tmp so the next test (or program) starts from nothing."""
        if not self.wipe_dir or os.stat(self.wipe_dir).st_size == self.empty_dir_size:
            return True  # a tmpfs directory's size counts its entries: nothing was left there
        try:
            _remove_tree_contents(self.wipe_dir)
            return not os.listdir(self.wipe_dir)
        except OSError:
            return False

    # ---- inside the forked child ----
    def _child(self, args):
        # Runs once per test in a fresh copy of the zygote, where each Python object touched costs a
        # copy-on-write fault: the work is precomputed in load() and kept minimal.
        try:
            os.closerange(SETUP_FD + 1, 1 << 20)  # the control channel above all
            for res, value in self.rlimits:
                resource.setrlimit(res, value)
            # SIGCHLD stays blocked (inherited): harmless in a process that cannot have children, and
            # unblocking it costs ~50 faults (pthread_sigmask builds a set of enum members).
            pid = os.getpid()
            for index in self.pid_words:
                self.child_words[index] = pid
            self.kernel.seccomp_filter(*self.seccomp_args)  # no_new_privs is inherited
            sys.setrecursionlimit(self.recursion_limit)
            if self.int_max_str_digits is not None:
                sys.set_int_max_str_digits(self.int_max_str_digits)
            namespace = self.module.__dict__
            for module_name, bound in self.lazy_imports:  # set up by load(): this program names them
                module = __import__(module_name)
                for name in bound:
                    namespace[name] = getattr(module, name)
                namespace[module_name] = module
            # the zygote reads this byte as "set-up done": closed before the program runs, so an
            # exit code or a stderr text is all a program can fake, and the grader ignores both
            os.write(SETUP_FD, b"k")
            os.close(SETUP_FD)
        except BaseException as e:  # noqa: BLE001 - nothing untrusted has run yet; fail closed
            try:
                os.write(2, f"sandbox set-up failed: {e!r}\n".encode())
            finally:
                os._exit(SETUP_FAILED)
        _run_untrusted(self.code, self.mode, self.fn_name, self.module, args,
                       self.exit_is_success, self.tagged_tuples)

    def serve(self):
        while True:
            try:
                header, blob = recv(self.ctl_in)
            except EOFError:
                return
            try:
                if header is None:
                    reply, out = self.run(blob)
                    send(self.ctl_out, reply, out)
                elif header.get("op") == "load":
                    send(self.ctl_out, self.load(header, blob))
                elif header.get("op") == "exit":
                    return
                else:
                    send(self.ctl_out, {"error": f"unknown request {header!r}"})
            except Exception as e:  # noqa: BLE001 - a bug here: tell the grader, which retires us
                import traceback

                where = traceback.extract_tb(e.__traceback__)[-1]
                send(self.ctl_out, {"error": f"runner failed: {e!r} at line {where.lineno}"})


def _run_untrusted(code, mode, fn_name, module, args, exit_is_success=False, tagged_tuples=False):
    """Run the program like ``python solution.py`` would, then leave with its exit status."""
    _exit, _flush_all, _excepthook = os._exit, _flush_std, sys.excepthook
    rc = 0
    try:
        try:
            if mode == "stdio":
                sys.modules["__main__"] = module
                sys.argv = ["solution.py"]
                exec(code, module.__dict__)  # noqa: S102 - this is the sandboxed test process
            else:
                sys.modules["solution"] = module
                exec(code, module.__dict__)  # noqa: S102 - this is the sandboxed test process
                fn = _resolve(module.__dict__, fn_name)
                positional, keywords = args
                result = fn(*from_wire(positional), **from_wire(keywords))
                _write_result(result, tagged_tuples)
        except SystemExit as e:
            rc = 0 if exit_is_success else _exit_code(e)
        except BaseException:  # noqa: BLE001 - report like the interpreter does
            _excepthook(*sys.exc_info())
            rc = 1
        _shutdown()
    except SystemExit as e:  # raised from an atexit handler or a thread join
        rc = _exit_code(e)
    except BaseException:  # noqa: BLE001
        rc = rc or 1
    _flush_all()
    _exit(rc)


def _move_fd(fd, target):
    """Make ``fd`` available as ``target`` (``fd`` may already be ``target``: the lowest free fd)."""
    if fd != target:
        os.dup2(fd, target)
        os.close(fd)


def _remove_tree_contents(path):
    for entry in os.scandir(path):
        if entry.is_dir(follow_symlinks=False):
            os.chmod(entry.path, 0o700)  # a child may have made it unreadable
            _remove_tree_contents(entry.path)
            os.rmdir(entry.path)
        else:
            os.unlink(entry.path)


def _resolve(namespace, fn_name):
    solution = namespace.get("Solution")
    if isinstance(solution, type) and hasattr(solution, fn_name):
        return getattr(solution(), fn_name)
    fn = namespace.get(fn_name)
    if not callable(fn):
        raise NameError(f"no function or Solution method named {fn_name!r}")  # noqa: TRY004 - as Python says it
    return fn


def _write_result(result, tagged_tuples=False):
    try:
        data = json.dumps(to_wire(result, tagged_tuples), allow_nan=False, ensure_ascii=False).encode("utf-8")
    except (TypeError, ValueError, RecursionError, UnicodeError) as e:
        # a value with no faithful JSON form is a wrong answer, not a crash
        data = json.dumps({UNUSABLE: str(e)[:200]}).encode()
    view = memoryview(data)
    while view:
        view = view[os.write(3, view) :]


def _exit_code(e):
    if e.code is None:
        return 0
    if isinstance(e.code, int):
        return e.code & 0xFF
    try:
        print(e.code, file=sys.stderr)
    except Exception:  # noqa: BLE001, S110 - a broken stderr loses the message, as in CPython
        pass
    return 1


def _shutdown():
    """What Py_FinalizeEx does before exit: join non-daemon threads, run atexit handlers."""
    threading = sys.modules.get("threading")
    if threading is not None:
        threading._shutdown()
    if atexit._ncallbacks():
        atexit._run_exitfuncs()


def _flush_std():
    streams = (sys.stdout, sys.stderr)
    if sys.__stdout__ is not sys.stdout or sys.__stderr__ is not sys.stderr:  # replaced by the program
        streams += (sys.__stdout__, sys.__stderr__)
    for stream in streams:
        try:
            stream.flush()
        except Exception:  # noqa: BLE001, S110 - a closed or replaced stream loses its output, as in CPython
            pass


# -- start-up --------------------------------------------------------------------------------------
def _preload(packages):
    """Import the allowed third-party packages ({name: directory}) so that programs find them."""
    for name, directory in packages.items():
        parent = os.path.dirname(directory)
        sys.path.insert(0, parent)
        try:
            __import__(name)
        except Exception as e:  # noqa: BLE001 - a broken optional package only makes it unavailable
            os.write(2, f"runner: cannot preload {name}: {e!r}\n".encode())
        finally:
            sys.path.remove(parent)
            sys.path_importer_cache.pop(parent, None)


class _OnDemandFinder:
    """Finds the on-demand packages ({name: directory}) for a program that imports them, and nothing else.

    A meta-path finder, not a ``sys.path`` entry: the directory above a package may be unreadable here
    (Landlock allows the package folder only), and it would show every other installed package.
    """

    def __init__(self, packages):
        self.packages = packages

    def find_spec(self, name, path=None, target=None):
        directory = self.packages.get(name)
        if directory is None:
            return None
        import importlib.util

        return importlib.util.spec_from_file_location(
            name, os.path.join(directory, "__init__.py"), submodule_search_locations=[directory])


def _allow_on_demand(packages):
    if packages:
        # one thread per BLAS: a pool per core would need memory (and time) the limits do not plan for
        for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = "1"
        sys.meta_path.append(_OnDemandFinder(packages))


def _ensure_main_stack():
    """Re-exec once with a large RLIMIT_STACK: the kernel sizes the main stack's room at exec."""
    soft, hard = resource.getrlimit(resource.RLIMIT_STACK)
    want = MAIN_STACK_BYTES if hard == resource.RLIM_INFINITY else min(MAIN_STACK_BYTES, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        resource.setrlimit(resource.RLIMIT_STACK, (want, hard))
        os.execv(sys.executable, sys.orig_argv)


def main():
    _ensure_main_stack()
    # The channel moves above the test fds (0-3), so a stray print here cannot corrupt it and a
    # child closes it with one call.
    ctl_in = fcntl.fcntl(0, fcntl.F_DUPFD_CLOEXEC, 10)
    ctl_out = fcntl.fcntl(1, fcntl.F_DUPFD_CLOEXEC, 10)
    for fd in (0, 1, 3):
        _move_fd(os.open(os.devnull, os.O_RDWR), fd)
    # Modules most programs import, so a child does not pay for them. Not threading: its at-fork
    # hook costs every child ~0.3 ms. (random, imported by the call prelude, reseeds itself after fork.)
    import _thread

    for name in ("bisect", "functools", "heapq", "io", "itertools", "re", "string", "traceback", "typing"):
        __import__(name)

    kernel = _Kernel()
    init, _ = recv(ctl_in)
    kernel.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if init.get("parent_pid") and os.getppid() != init["parent_pid"]:
        return  # the grader is already gone
    kernel.prctl(PR_SET_DUMPABLE, 0)  # no /proc/<pid>/mem, no ptrace of this process by children
    _preload(init.get("preload") or {})
    _allow_on_demand(init.get("on_demand") or {})
    stack = resource.getrlimit(resource.RLIMIT_STACK)[0]  # as large as _ensure_main_stack could get
    # NOFILE is set per program, in the children (Limits.nofile)
    for res, value in ((resource.RLIMIT_STACK, stack), (resource.RLIMIT_CORE, 0)):
        hard = resource.getrlimit(res)[1]
        value = value if hard == resource.RLIM_INFINITY else min(value, hard)
        resource.setrlimit(res, (value, value))  # the same for every test; children inherit them
    if init.get("landlock"):
        kernel.landlock(init["landlock"])
    if init.get("drop_caps"):
        kernel.drop_capabilities(init["capset_nr"])
    zygote_buf, zygote_prog = kernel.filter_prog(bytes.fromhex(init["zygote_filter"]))
    kernel.install_filter(zygote_prog)
    del zygote_buf, zygote_prog  # the kernel keeps its own copy
    signal.pthread_sigmask(signal.SIG_BLOCK, (signal.SIGCHLD,))  # see Zygote._wait
    builtins.exit, builtins.quit = _Quitter("exit"), _Quitter("quit")
    _thread.stack_size(THREAD_STACK_BYTES)
    zygote = Zygote(
        ctl_in, ctl_out, kernel, bytes.fromhex(init["child_filter"]), init["pid_slots"], init.get("wipe_dir"),
        init["lazy_prelude"],
    )
    gc.collect()
    gc.freeze()
    send(ctl_out, {"ok": True, "pid": os.getpid()})
    zygote.serve()


if __name__ == "__main__":
    main()
