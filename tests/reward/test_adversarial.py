"""Programs that try to cheat or to break the grader: each must get a reward of 0 and change nothing.

Every test runs under both isolation layers (``layer`` fixture). One property per test.
"""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest

A_PLUS_B = [("1 2\n", "3\n"), ("5 7\n", "12\n")]


@pytest.fixture(params=["deepcoder", "livecodebench"])
def rules(request) -> str:
    """Every attack runs under both rule sets: no rule may let a cheat through."""
    return request.param


def test_exit_before_output_is_wrong_answer(stdio):
    out = stdio("import os\nos._exit(0)\nprint(3)", A_PLUS_B)
    assert (out["verdict"], out["score"]) == ("WA", 0.0)


def test_system_exit_zero_before_output_is_wrong_answer(stdio):
    out = stdio("raise SystemExit(0)\nprint(3)", A_PLUS_B)
    assert out["verdict"] == "WA"


def test_right_output_then_nonzero_exit_is_runtime_error(stdio, rules):
    out = stdio("a, b = map(int, input().split())\nprint(a + b)\nimport sys\nsys.exit(1)", A_PLUS_B)
    # not a cheat (the answer is printed): LiveCodeBench's grader swallows SystemExit, so it passes there
    assert out["verdict"] == ("AC" if rules == "livecodebench" else "RE")


def test_right_output_then_kill_self_is_runtime_error(stdio):
    code = "import os, signal\na, b = map(int, input().split())\nprint(a + b, flush=True)\nos.kill(os.getpid(), signal.SIGKILL)"
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "RE" and "SIGKILL" in out["reason"]


def test_function_that_exits_instead_of_returning_gets_nothing(call):
    out = call("class Solution:\n    def add(self, a, b):\n        import os\n        os._exit(0)", "add", [([1, 2], 3)])
    assert out["verdict"] == "WA" and "returned nothing" in out["reason"]


def test_atexit_exit_zero_after_a_crash_does_not_pass(call):
    # rLLM's LeetCode runner rewarded return code 0; atexit(os._exit(0)) after a failing check fooled it
    code = "import atexit, os\natexit.register(os._exit, 0)\nclass Solution:\n    def add(self, a, b):\n        raise ValueError('no idea')"
    assert call(code, "add", [([1, 2], 3)])["score"] == 0.0


def test_cannot_read_a_file_of_the_grader(stdio, tmp_path):
    secret = tmp_path / "tests.json"
    secret.write_text("42\n")
    code = f"print(open({str(secret)!r}).read())"
    out = stdio(code, [("", "42\n")])
    assert out["verdict"] == "RE" and ("FileNotFoundError" in out["reason"] or "PermissionError" in out["reason"])


def test_expected_output_is_nowhere_in_the_sandbox(stdio):
    # LiveCodeBench's harness keeps gt_out in a caller frame; here it never enters the sandbox at all
    code = """
import gc, sys
found = None
for obj in gc.get_objects():
    values = list(obj.values()) if isinstance(obj, dict) else list(obj) if isinstance(obj, (list, tuple)) else []
    for v in values:
        if isinstance(v, str) and v.startswith("EXPECTED-"):
            found = v
frame = sys._getframe()
while frame:
    for v in frame.f_locals.values():
        if isinstance(v, str) and v.startswith("EXPECTED-"):
            found = v
    frame = frame.f_back
print(found or "not found")
"""
    out = stdio(code, [("", "EXPECTED-7f3a9c\n")])
    assert out["verdict"] == "WA" and "not found" in out["reason"]


def test_proc_is_not_visible(stdio):
    code = "import os\ntry:\n    print(len(os.listdir('/proc')))\nexcept OSError:\n    print('hidden')"
    assert stdio(code, [("", "hidden\n")])["verdict"] == "AC"


def test_grader_environment_does_not_leak(stdio, monkeypatch):
    monkeypatch.setenv("VERL_PIPELINE_TEST_SECRET", "hunter2")
    code = "import os\nprint('leak' if any('hunter2' in v for v in os.environ.values()) else 'clean')"
    assert stdio(code, [("", "clean\n")], reuse_sandbox=False)["verdict"] == "AC"


def test_killing_parent_group_or_everyone_fails_and_judging_goes_on(stdio):
    code = """
import os, signal
for target in (os.getppid(), 0, -1, 1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
a, b = map(int, input().split())
print(a + b)
"""
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "AC" and out["tests_run"] == 2  # the zygote survived the first test


def test_sigio_cannot_be_aimed_at_the_zygote(stdio):
    code = """
import fcntl, os
r, w = os.pipe()
try:
    fcntl.fcntl(r, fcntl.F_SETOWN, os.getppid())
    fcntl.fcntl(r, fcntl.F_SETFL, os.O_ASYNC)
    os.write(w, b"x")
except OSError:
    pass
a, b = map(int, input().split())
print(a + b)
"""
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "AC" and out["tests_run"] == 2


def test_fork_bomb_is_stopped(stdio):
    out = stdio("import os\nwhile True:\n    os.fork()", A_PLUS_B)
    assert out["verdict"] == "RE" and "PermissionError" in out["reason"]


def test_subprocess_cannot_run(stdio):
    code = "import subprocess\nprint(subprocess.run(['echo', '3'], capture_output=True, text=True).stdout)"
    assert stdio(code, [("", "3\n")])["verdict"] == "RE"


def test_os_system_does_not_produce_output(stdio):
    assert stdio("import os\nos.system('echo 3')", [("", "3\n")])["verdict"] == "WA"


def test_memory_bomb_is_memory_limit(stdio):
    out = stdio("x = bytearray(1 << 40)", A_PLUS_B, memory_limit_mb=256)
    assert out["verdict"] == "MLE"


def test_growing_memory_is_memory_limit(stdio):
    out = stdio("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 24))", A_PLUS_B, memory_limit_mb=256)
    assert out["verdict"] == "MLE"


def test_infinite_loop_is_time_limit(stdio):
    start = time.monotonic()
    out = stdio("while True:\n    pass", A_PLUS_B, time_limit_s=0.5)
    assert out["verdict"] == "TLE" and time.monotonic() - start < 5


def test_ignored_signals_do_not_save_an_infinite_loop(stdio):
    code = """
import signal
for s in (signal.SIGTERM, signal.SIGALRM, signal.SIGINT, signal.SIGXCPU):
    signal.signal(s, signal.SIG_IGN)
while True:
    try:
        while True:
            pass
    except BaseException:
        pass
"""
    assert stdio(code, A_PLUS_B, time_limit_s=0.5)["verdict"] == "TLE"


def test_sleeping_forever_is_time_limit(stdio):
    # no CPU used, so only the wall-clock deadline can stop it
    assert stdio("import time\ntime.sleep(1000)", A_PLUS_B, time_limit_s=0.5)["verdict"] == "TLE"


def test_a_thread_that_never_ends_is_time_limit(stdio):
    # the right answer is printed, but the process only ends when its non-daemon threads do
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(1000,)).start()\nprint(3)"
    assert stdio(code, [("", "3\n")], time_limit_s=0.5)["verdict"] == "TLE"


def test_stdout_flood_is_output_limit(stdio):
    out = stdio("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)", A_PLUS_B, output_limit_mb=1)
    assert out["verdict"] == "OLE"


def test_right_answer_followed_by_a_flood_is_not_truncated_into_a_pass(stdio):
    code = "a, b = map(int, input().split())\nprint(a + b)\nprint('\\n' * (2 << 20))\nprint('garbage')"
    assert stdio(code, A_PLUS_B, output_limit_mb=1)["verdict"] == "OLE"


def test_cannot_write_or_delete_files_outside(stdio, tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    code = f"""
import os
for action in (lambda: os.remove({str(victim)!r}),
               lambda: open({str(tmp_path / 'planted.txt')!r}, 'w').write('x'),
               lambda: open('/planted.txt', 'w').write('x'),
               lambda: open('/usr/planted.txt', 'w').write('x')):
    try:
        action()
    except OSError:
        pass
print(3)
"""
    assert stdio(code, [("", "3\n")])["verdict"] == "AC"
    assert victim.read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["victim.txt"]
    assert not os.path.exists("/planted.txt") and not os.path.exists("/usr/planted.txt")


def test_network_is_unreachable(stdio):
    received = []
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    server.settimeout(3)
    port = server.getsockname()[1]

    def accept():
        try:
            conn, _ = server.accept()
            received.append(conn.recv(100))
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    code = f"""
import socket
try:
    s = socket.create_connection(('127.0.0.1', {port}), timeout=1)
    s.sendall(b'leak')
    print('connected')
except OSError:
    print('blocked')
try:
    socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'leak', ('127.0.0.1', {port}))
    print('sent')
except OSError:
    print('blocked')
"""
    out = stdio(code, [("", "blocked\nblocked\n")])
    thread.join()
    server.close()
    assert out["verdict"] == "AC" and received == []


def test_raw_syscalls_through_ctypes_are_filtered(stdio):
    code = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
results = [
    libc.syscall(41, 2, 1, 0),               # socket(AF_INET, SOCK_STREAM)
    libc.syscall(57),                         # fork
    libc.syscall(56, 17, 0, 0, 0, 0),         # clone(SIGCHLD) = fork
    libc.syscall(101, 16, os.getppid(), 0, 0),  # ptrace(PTRACE_ATTACH, parent)
    libc.syscall(272, 0x10000000),            # unshare(CLONE_NEWUSER)
    libc.syscall(0x40000000 | 39) if False else -1,  # (x32 calls kill the process; not tried here)
]
print('blocked' if all(r == -1 for r in results) else f'escaped {results}')
"""
    if os.uname().machine != "x86_64":
        pytest.skip("syscall numbers in this program are x86_64's")
    assert stdio(code, [("", "blocked\n")])["verdict"] == "AC"


def test_eq_object_is_not_equal_to_everything(call):
    code = "class Anything:\n    def __eq__(self, other):\n        return True\nclass Solution:\n    def add(self, a, b):\n        return Anything()"
    out = call(code, "add", [([1, 2], 3)])
    assert out["verdict"] == "WA"


def test_int_subclass_with_eq_is_judged_by_its_value(call):
    code = "class Sneaky(int):\n    def __eq__(self, other):\n        return True\nclass Solution:\n    def add(self, a, b):\n        return Sneaky(0)"
    assert call(code, "add", [([1, 2], 3)])["verdict"] == "WA"


def test_true_is_not_one(call, rules):
    # a typing rule, not a cheat: LiveCodeBench's grader compares with ==, where True == 1
    want = "AC" if rules == "livecodebench" else "WA"
    assert call("class Solution:\n    def f(self, a):\n        return True", "f", [([0], 1)])["verdict"] == want


def test_nan_result_never_matches(call):
    assert call("class Solution:\n    def f(self, a):\n        return float('nan')", "f", [([0], 0.5)])["verdict"] == "WA"


def test_nan_printed_never_matches(stdio):
    assert stdio("print('nan')", [("", "0.5\n")])["verdict"] == "WA"


def test_tmp_is_empty_for_every_test(stdio, layer):
    if layer == "landlock":
        pytest.skip("nothing is writable under the Landlock layer")
    code = """
import os
print('dirty' if os.listdir('/tmp') else 'clean')
open('/tmp/left-behind', 'w').write('x')
os.mkdir('/tmp/dir-left-behind')
os.chmod('/tmp/dir-left-behind', 0)
"""
    assert stdio(code, [("", "clean\n")] * 3)["verdict"] == "AC"
    assert stdio(code, [("", "clean\n")])["verdict"] == "AC"  # nor for the next program
