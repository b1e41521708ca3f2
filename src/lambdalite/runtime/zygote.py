"""A zygote: an interpreter that has imported the runtime and an environment's modules, and forks
workers on request so that a new instance skips the interpreter's start and those imports.

Started by the pool as `python -I -S -B -c ZYGOTE_CODE <launcher dir>` with the private variables of
a worker minus the handler (its path: the environment, the layers and the runtime bundle; no
function's folder). It serves one SEQPACKET socket (protocol.py, "Zygote") from a single thread:
a fork must happen while no other thread runs, so a preloaded module that leaves a Python thread
running ends the zygote (the parent starts another without that module).

A forked worker starts its own session (its process group is the one the parent kills), dies with
the zygote (and so with the server), points fds 1 and 2 at its output pipe, takes the function's
environment, folder and path, reseeds its random generators, and then runs exactly what a fresh
worker runs (bootstrap.run). Its exit status reaches the parent as a W frame: the zygote is its
parent and reaps it, after killing what is left of its process group.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from typing import Any

from . import bootstrap, protocol

_MAX_MESSAGE = 1 << 20
SPARE_NAME = "lambdalite-spar"   # a spare's process name until it becomes an instance (15 bytes)


class Zygote:
    def __init__(self, control: socket.socket, set_by_pth: dict[str, str]) -> None:
        self.control = control
        self.set_by_pth = set_by_pth   # what .pth lines put into os.environ: they ran once, here
        self.wake_r, self.wake_w = os.pipe()
        os.set_blocking(self.wake_r, False)
        os.set_blocking(self.wake_w, False)
        signal.set_wakeup_fd(self.wake_w)
        signal.signal(signal.SIGCHLD, lambda signum, frame: None)   # the wake-up fd is what counts
        try:
            with open("/proc/self/comm") as comm:
                self.name = comm.read().strip()
        except OSError:
            self.name = "python"

    def send(self, kind: int, value: Any) -> None:
        self.send_to(self.control, kind, value)

    @staticmethod
    def send_to(control: socket.socket, kind: int, value: Any) -> None:
        control.send(protocol.frame(kind, json.dumps(value).encode()))

    def serve(self, ready: dict[str, Any] | None = None) -> None:
        self.send(protocol.READY, {"pid": os.getpid(), **(ready or {})})
        while True:
            readable, _, _ = select.select([self.control.fileno(), self.wake_r], [], [])
            if self.wake_r in readable:
                try:
                    while len(os.read(self.wake_r, 4096)) == 4096:
                        pass
                except BlockingIOError:
                    pass
                self.reap()
            if self.control.fileno() in readable:
                try:
                    data, fds, _, _ = socket.recv_fds(self.control, _MAX_MESSAGE, 2)
                except InterruptedError:
                    continue
                if not data:
                    return   # the parent went away
                self.handle(data, fds)

    def handle(self, data: bytes, fds: list[int]) -> None:
        _, kind = protocol.FRAME.unpack_from(data)
        body = json.loads(data[protocol.FRAME.size:])
        if kind == protocol.FORK:
            self.fork(body, fds)
            return
        for fd in fds:
            os.close(fd)
        if kind == protocol.PRELOAD:
            self.preload(body)
        elif kind == protocol.ARM:
            self.arm(body)

    def fork(self, request: dict[str, Any], fds: list[int]) -> None:
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            self.send(protocol.FORK_FAILED, {"id": request.get("id"), "error": "expected 2 descriptors"})
            return
        try:
            pid = _fork()
        except OSError as exc:
            for fd in fds:
                os.close(fd)
            self.send(protocol.FORK_FAILED, {"id": request["id"], "error": str(exc)})
            return
        if pid == 0:
            code = 70
            try:
                code = self.become_worker(request, fds[0], fds[1])
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:   # noqa: BLE001 - said where the instance's output goes, then 70
                _say_why(exc)
            finally:
                os._exit(code)
        for fd in fds:
            os.close(fd)
        self.send(protocol.FORKED, {"id": request["id"], "pid": pid})

    def arm(self, request: dict[str, Any]) -> None:
        """Fork a spare: detached and in its cgroups ahead of time, it waits for its request."""
        ours, its = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        try:
            pid = _fork()
        except OSError:
            ours.close()
            its.close()
            return   # no spare: the next fork is an ordinary one
        if pid == 0:
            code = 70
            try:
                ours.close()
                self.detach(request)
                bootstrap.set_process_name(SPARE_NAME)   # tells a waiting spare from an instance in ps
                if not select.select([its], [], [], 0)[0]:   # no request waiting yet: time to spare
                    touch_ahead()
                data, fds, _, _ = socket.recv_fds(its, _MAX_MESSAGE, 2)
                if not data or len(fds) != 2:
                    os._exit(0)   # the zygote went away, or no longer needs it
                its.close()
                bootstrap.set_process_name(self.name)
                code = self.become_worker(json.loads(data[protocol.FRAME.size:]), fds[0], fds[1], detached=True)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException as exc:   # noqa: BLE001 - said where the instance's output goes, then 70
                _say_why(exc)
            finally:
                os._exit(code)
        its.close()
        try:   # the parent holds the only end from now on
            socket.send_fds(self.control, [protocol.frame(protocol.ARMED, json.dumps(
                {"spare": request["spare"], "pid": pid}).encode())], [ours.fileno()])
        finally:
            ours.close()

    def detach(self, request: dict[str, Any]) -> None:
        """In a forked child: a session of its own, none of the zygote's channels, death with the
        zygote, its instance's cgroups."""
        zygote_pid = os.getppid()
        os.setsid()
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        self.control.close()
        os.close(self.wake_r)
        os.close(self.wake_w)
        bootstrap.die_with_parent(str(zygote_pid))
        bootstrap.join_cgroups(request.get("cgroups") or [])

    @staticmethod
    def take_output(pipe_fd: int) -> None:
        """fds 1 and 2 on the instance's output pipe."""
        os.dup2(pipe_fd, 1)
        os.dup2(pipe_fd, 2)
        os.close(pipe_fd)

    def become_worker(self, request: dict[str, Any], sock_fd: int, pipe_fd: int, detached: bool = False) -> int:
        if not detached:
            self.detach(request)
        self.take_output(pipe_fd)
        os.chdir(request["cwd"])
        zone = os.environ.get("TZ")
        os.environ.clear()
        os.environ.update(request["env"])
        os.environ.update(self.set_by_pth)
        take_own_environment(request)
        if os.environ.get("TZ") != zone:
            time.tzset()   # reads the zone's file: only when the function's differs from the zygote's
        front = list(request["path"])
        sys.path[:0] = front
        _forget_shadowed(front)
        reseed()
        return bootstrap.run(socket.socket(fileno=sock_fd), request["handler"], request["cwd"],
                             peak_file=request.get("peak"))

    def preload(self, names: list[str]) -> None:
        loaded, failed = 0, []
        for name in names:
            if name in sys.modules:
                continue
            try:
                importlib.import_module(name)
                loaded += 1
            except BaseException:   # noqa: BLE001 - a module that fails here is simply not preloaded
                failed.append(name)
                continue
            if _python_threads() > 1:
                self.send(protocol.PRELOAD, {"loaded": loaded, "failed": failed, "threaded": name})
                raise SystemExit(3)
        self.send(protocol.PRELOAD, {"loaded": loaded, "failed": failed, "threaded": None})

    def reap(self) -> None:
        while True:
            try:
                info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return
            if info is None:
                return
            pid = info.si_pid
            try:   # what the worker left in its group goes too, while the group id is still pinned
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
            _, status = os.waitpid(pid, 0)
            self.send(protocol.EXITED, {"pid": pid, "code": os.waitstatus_to_exitcode(status)})


def _fork() -> int:
    """os.fork(), with everything the zygote holds moved out of the garbage collector's reach first
    (gc.freeze): a collection in the child would otherwise write to every object's header, copying
    the whole inherited heap page by page (a template holding scikit-learn: tens of milliseconds on
    a cold start's path)."""
    gc.freeze()
    return os.fork()


def _say_why(exc: BaseException) -> None:
    """A forked child that could not become its instance: why, on fd 2 (the instance's output once
    it took it, else the zygote's stderr)."""
    try:
        import traceback

        where = traceback.extract_tb(exc.__traceback__)[-1]
        os.write(2, f"[lambdalite] the instance could not start: {type(exc).__name__}: {exc} "
                    f"({os.path.basename(where.filename)}:{where.lineno})\n".encode())
    except OSError:
        pass


def _python_threads() -> int:
    threading = sys.modules.get("threading")
    return threading.active_count() if threading is not None else 1


# What a spare's cold start runs through: the runtime and the standard library modules it uses.
_TOUCHED = ("_lambdalite_runtime", "builtins", "sys", "os", "posixpath", "genericpath", "stat", "io", "_io", "abc",
            "codecs", "encodings", "json", "logging", "socket", "time", "random", "tempfile", "traceback",
            "linecache", "importlib", "re", "enum", "functools")


def touch_ahead() -> None:
    """In a spare, before it waits: the pages a cold start writes first (reference counts of the
    runtime's functions, code, constants and classes, the module table) are written now, each a
    copy-on-write fault of the fork done here rather than on the cold start's path. Measured on
    addfive: 385 faults after the FORK request became 66, and the child's part 2.5-4 ms became
    1.3-1.9 ms (a fault costs ~5 us in a VM). Bounded to these modules: the environment's own
    (numpy, pandas, ...) are left shared until the function touches them."""
    keep: list[Any] = list(sys.modules)
    for name, module in list(sys.modules.items()):
        if name.partition(".")[0] not in _TOUCHED:
            continue
        values = list(getattr(module, "__dict__", {}).values())
        keep += values
        for value in values:
            if isinstance(value, type):
                keep += value.__dict__.values()
            code = getattr(value, "__code__", None)
            if code is not None:
                keep.append(code)
                keep += code.co_consts
    json.loads(json.dumps({"id": "", "env": {"A": "b"}, "path": ["/"], "cwd": "/", "handler": "app.handler"}))
    del keep


def _forget_shadowed(front: list[str]) -> None:
    """A preloaded module whose top-level name the function's own folder provides is forgotten:
    the function's import must find its own file, as it would in a fresh interpreter."""
    names: set[str] = set()
    for folder in front:
        try:
            entries = os.listdir(folder)
        except OSError:
            continue
        for entry in entries:
            names.add(entry[:-3] if entry.endswith(".py") else entry.split(".", 1)[0])
    loaded = {n.partition(".")[0] for n in sys.modules}
    if names.isdisjoint(loaded):
        return   # the common case: nothing to forget, no walk over every module
    for name in [n for n in sys.modules if n.partition(".")[0] in names]:
        if not name.startswith("_lambdalite_runtime"):
            del sys.modules[name]


def take_own_environment(request: dict[str, Any]) -> None:
    """This instance's own variables (TMPDIR, made here); `tempfile` forgets a directory it chose
    earlier."""
    os.environ.update(request.get("extra_env") or {})
    bootstrap.make_tmpdir()
    module = sys.modules.get("tempfile")
    if module is not None:
        module.__dict__["tempdir"] = None


def reseed() -> None:
    """Siblings must not draw the same numbers: random reseeds itself at fork; numpy does not."""
    random = sys.modules.get("random")
    if random is not None:
        random.seed()
    numpy_random = sys.modules.get("numpy.random")
    if numpy_random is not None:
        try:
            numpy_random.seed()
        except Exception:   # noqa: BLE001 - a numpy too broken to reseed will fail the function on its own
            pass


def main() -> None:
    bootstrap.provide_hooks()   # imported once here, not in every worker
    private = bootstrap.take_private_environment()
    bootstrap.die_with_parent(private.get(protocol.PARENT_VARIABLE))
    before = dict(os.environ)
    bootstrap.set_path(private)
    set_by_pth = {k: v for k, v in os.environ.items() if before.get(k) != v}
    control = socket.socket(fileno=int(private[protocol.FD_VARIABLE]))
    control.set_inheritable(False)
    Zygote(control, set_by_pth).serve()
