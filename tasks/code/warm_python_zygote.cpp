#include "tasks/code/warm_python_zygote.h"

namespace r1lab::code {

const std::string& warm_python_zygote_source() {
  // Runs as pid 1 of its own sandbox (bubblewrap's namespaces, an unprivileged uid). It never runs
  // untrusted code itself: each test is a fork of it, so the program starts with the interpreter and
  // the import prelude already loaded, and leaves nothing behind: after every test the zygote kills
  // every other process of the namespace and empties every writable folder.
  //
  // Why the zygote is out of the programs' reach: as pid 1 of the pid namespace it receives no signal
  // from inside the namespace that it has no handler for (it installs none, so not even SIGKILL), and it
  // is not dumpable, so a program of the same uid can neither ptrace it nor open /proc/1/mem or /proc/1/fd.
  //
  // Protocol on fds 0 (requests) and 1 (replies), one test at a time:
  //   request: u32 length, JSON header, then the bytes of each file and of stdin, in the header's order
  //   reply:   u32 length, JSON header, then the bytes of stdout and of stderr
  // It writes one reply frame {"ready": true} when its prelude is loaded.
  static const std::string source = R"PY(import ctypes, errno, io, json, os, resource, select, signal, struct, sys, time
import runpy, threading, atexit

# What a LiveCodeBench program imports (its prelude), the functional-test driver's modules, and other
# modules contest programs often use: loaded once here, so each fork starts with them in sys.modules.
for _name in ("string", "re", "datetime", "collections", "heapq", "bisect", "copy", "math", "random", "statistics",
              "itertools", "functools", "operator", "json", "typing", "numbers", "decimal", "fractions", "array",
              "traceback", "dataclasses", "enum", "queue", "cmath", "textwrap", "unicodedata"):
    __import__(_name)
import random as _random

_libc = ctypes.CDLL(None, use_errno=True)
_libc.prctl(4, 0, 0, 0, 0)                      # PR_SET_DUMPABLE 0
signal.signal(signal.SIGINT, signal.SIG_DFL)    # pid 1 with no handlers: immune to signals from inside

_control_in = os.fdopen(0, "rb", buffering=0)
_control_out = os.fdopen(1, "wb", buffering=0)
_STDIO = {name: (getattr(sys, name).encoding, getattr(sys, name).errors) for name in ("stdin", "stdout", "stderr")}
_WRITABLE = ("/tmp", "/code", "/dev/shm")


def _read_exactly(count):
    chunks = []
    while count > 0:
        chunk = _control_in.read(min(count, 1 << 20))
        if not chunk:
            sys.exit(0)                          # the harness went away
        chunks.append(chunk)
        count -= len(chunk)
    return b"".join(chunks)


def _send(header, *payloads):
    text = json.dumps(header).encode()
    _control_out.write(struct.pack(">I", len(text)) + text)
    for payload in payloads:
        view = memoryview(payload)
        while view:
            view = view[_control_out.write(view):]


def _empty_folder(folder):
    # The program runs as our uid, so nothing it made is beyond us; a folder it made unreadable is
    # opened up first.
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)
                _empty_folder(entry.path)
                os.rmdir(entry.path)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def _remove_ipc_objects():
    # System V shared memory, semaphores and message queues outlive their processes: remove any a
    # program left, so no later test can find it.
    for kind, call in (("shm", "shmctl"), ("sem", "semctl"), ("msg", "msgctl")):
        try:
            with open("/proc/sysvipc/" + kind) as listing:
                rows = listing.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) > 1:
                if kind == "sem":
                    getattr(_libc, call)(int(fields[1]), 0, 0, None)   # IPC_RMID = 0
                else:
                    getattr(_libc, call)(int(fields[1]), 0, None)


def _kill_everyone_else():
    try:
        os.kill(-1, signal.SIGKILL)              # from pid 1: every process of the namespace but pid 1
    except ProcessLookupError:
        pass
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def _stdio(fd, name):
    encoding, errors = _STDIO[name]
    # As the interpreter makes its standard streams: no newline translation, stderr line-buffered.
    stream = io.open(fd, "r" if fd == 0 else "w", encoding=encoding, errors=errors, newline="\n", closefd=False)
    if fd == 2:
        stream.reconfigure(line_buffering=True)
    return stream


def _exit_code(exit):
    # What the interpreter does with SystemExit at the top level.
    code = exit.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _child(header, pipes):
    stdin_read, stdout_write, stderr_write = pipes
    os.dup2(stdin_read, 0)
    os.dup2(stdout_write, 1)
    os.dup2(stderr_write, 2)
    os.closerange(3, 1 << 16)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    limits = header["limits"]
    cpu = limits["cpu_seconds"]
    stack = limits["stack_bytes"]                # None: no limit of its own, as the zygote has none
    for resource_id, value in ((resource.RLIMIT_CPU, cpu), (resource.RLIMIT_AS, limits["memory_bytes"]),
                               (resource.RLIMIT_STACK, stack),
                               (resource.RLIMIT_FSIZE, limits["file_size_bytes"]),
                               (resource.RLIMIT_NOFILE, limits["open_files"]),
                               (resource.RLIMIT_NPROC, limits["processes"])):
        if value is None:
            continue
        hard = resource.getrlimit(resource_id)[1]
        if hard != resource.RLIM_INFINITY:
            value = min(value, hard)             # a limit above the host's own cannot be set, as cold
        resource.setrlimit(resource_id, (value, value))
    _random.seed()                               # a fresh interpreter seeds itself; a fork would repeat ours
    sys.stdin = sys.__stdin__ = _stdio(0, "stdin")
    sys.stdout = sys.__stdout__ = _stdio(1, "stdout")
    sys.stderr = sys.__stderr__ = _stdio(2, "stderr")
    os.chdir("/tmp")
    entry = "/code/" + header["entry"]
    sys.argv = [entry]
    sys.path[0] = "/code"
    code = 0
    try:
        runpy.run_path(entry, run_name="__main__")
    except SystemExit as exit:
        code = _exit_code(exit)
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    # The interpreter's shutdown: wait for non-daemon threads, run atexit functions, flush the streams.
    try:
        threading._shutdown()
    except BaseException:
        pass
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            code = code or 120
    os._exit(code)


def _run_test(header, files, stdin_data):
    # The writable folders are empty here: the zygote starts with them empty and empties them after
    # every test.
    for name, data in files:
        with open("/code/" + name, "wb") as out:
            out.write(data)
    limits = header["limits"]
    stdin_read, stdin_write = os.pipe()
    stdout_read, stdout_write = os.pipe()
    stderr_read, stderr_write = os.pipe()
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(header, (stdin_read, stdout_write, stderr_write))
        finally:
            os._exit(70)
    for fd in (stdin_read, stdout_write, stderr_write):
        os.close(fd)
    exited = os.pidfd_open(pid)
    for fd in (stdin_write, stdout_read, stderr_read):
        os.set_blocking(fd, False)
    deadline = started + limits["wall_seconds"]
    caps = {stdout_read: limits["stdout_bytes"], stderr_read: limits["stderr_bytes"]}
    captured = {stdout_read: bytearray(), stderr_read: bytearray()}
    over = {stdout_read: False, stderr_read: False}
    open_reads = [stdout_read, stderr_read]
    stdin_view = memoryview(stdin_data)
    if not stdin_view:
        os.close(stdin_write)
        stdin_write = -1
    killed_for_wall = killed_for_output = False
    status = None

    def drain(fd):
        while True:
            try:
                chunk = os.read(fd, 1 << 16)
            except BlockingIOError:
                return True
            if not chunk:
                return False
            room = caps[fd] - len(captured[fd])
            captured[fd] += chunk[:max(room, 0)]
            if len(chunk) > room:
                over[fd] = True
                if fd == stdout_read:
                    return True

    while status is None:
        remaining = deadline - time.monotonic()
        if remaining <= 0 and not killed_for_wall:
            killed_for_wall = True
            os.kill(pid, signal.SIGKILL)
        waits = list(open_reads) + [exited]
        writes = [stdin_write] if stdin_write >= 0 else []
        timeout = 0.005 if killed_for_wall or killed_for_output else max(0.0, min(remaining, 1.0))
        try:
            readable, writable, _ = select.select(waits, writes, [], timeout)
        except InterruptedError:
            continue
        for fd in list(open_reads):
            if fd in readable and not drain(fd):
                open_reads.remove(fd)
        if over[stdout_read] and not killed_for_output:
            killed_for_output = True
            os.kill(pid, signal.SIGKILL)
        if writable:
            try:
                stdin_view = stdin_view[os.write(stdin_write, stdin_view[:1 << 16]):]
            except BlockingIOError:
                pass
            except OSError:                      # the program closed its stdin: its business
                stdin_view = stdin_view[:0]
            if not stdin_view:
                os.close(stdin_write)
                stdin_write = -1
        if exited in readable:
            _, status, usage = os.wait4(pid, 0)
    wall = time.monotonic() - started
    if stdin_write >= 0:
        os.close(stdin_write)
    os.close(exited)
    _kill_everyone_else()                         # what the program left running dies before we read on
    for fd in open_reads:
        drain(fd)
    for fd in (stdout_read, stderr_read):
        os.close(fd)
    for folder in _WRITABLE:
        _empty_folder(folder)
    _remove_ipc_objects()
    reply = {"wall_seconds": wall, "cpu_seconds": usage.ru_utime + usage.ru_stime,
             "peak_memory_bytes": usage.ru_maxrss * 1024, "killed_for_wall": killed_for_wall,
             "killed_for_output": killed_for_output, "stderr_truncated": over[stderr_read],
             "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else -1,
             "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
             "stdout_bytes": len(captured[stdout_read]), "stderr_bytes": len(captured[stderr_read])}
    _send(reply, captured[stdout_read], captured[stderr_read])


_send({"ready": True, "pid": os.getpid()})
while True:
    (length,) = struct.unpack(">I", _read_exactly(4))
    header = json.loads(_read_exactly(length))
    files = [(name, _read_exactly(size)) for name, size in header["files"]]
    stdin_data = _read_exactly(header["stdin_bytes"])
    _run_test(header, files, stdin_data)
)PY";
  return source;
}

}  // namespace r1lab::code
