"""The worker's main loop: init (import the handler) once, then one invocation per I frame.

Started by the pool as `python -I -S -B -c LAUNCH_CODE <launcher dir>` (see lambdalite.pool.launch);
LAUNCH_CODE imports this module and calls `main()`.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import socket
import sys
import time
from typing import Any, BinaryIO

from . import errors, logs, protocol
from .context import LambdaContext, parse_client_context
from .errors import Fault
from .handler import Handler, load_handler
from .memory import MemoryGauge
from .protocol import loads
from .reaper import reap_unwaited
from .serialize import Marshaller

# Printed by awslambdaric before an init error, word for word.
UNHANDLED_WARNING = (
    "LAMBDA_WARNING: Unhandled exception. The most likely cause is an issue in the function code. "
    "However, in rare cases, a Lambda runtime update can cause unexpected function behavior. "
    "For functions using managed runtimes, runtime updates can be triggered by a function change, "
    "or can be applied automatically. To determine if the runtime has been updated, check the "
    "runtime version in the INIT_START log entry. If this error correlates with a change in the "
    "runtime version, you may be able to mitigate this error by temporarily rolling back to the "
    "previous runtime version. For more information, see "
    "https://docs.aws.amazon.com/lambda/latest/dg/runtimes-update.html\r"
)


class Worker:
    def __init__(self, sock: socket.socket, output: logs.Output, peak_file: str | None = None) -> None:
        self.reader: BinaryIO = sock.makefile("rb")
        self.sender = output.sender
        self.output = output
        self.marshaller = Marshaller()
        self.memory = MemoryGauge(peak_file)
        self.trace_id: str | None = None
        LambdaContext.configure(output.write)

    def init(self, handler_name: str, code_dir: str) -> Handler | None:
        started = time.perf_counter()
        before = set(sys.modules)
        try:
            handler = load_handler(handler_name)
        except Fault as fault:
            error = errors.from_fault(fault)
        except Exception as exc:
            error = errors.from_exception(exc)
        else:
            init_ms = (time.perf_counter() - started) * 1000
            self.output.end_invocation()
            ready = b'{"init_ms":%.3f,"max_rss_kb":%d,"modules":%s}' % (
                init_ms, self.memory.peak_kb(), json.dumps(imported_by_init(before, code_dir)).encode())
            self.sender.send(protocol.frame(protocol.READY, ready))
            return handler
        logging.warning(UNHANDLED_WARNING)
        self.output.write(errors.log_text(error))
        self.output.end_invocation()
        self.sender.send(protocol.frame(protocol.INIT_ERROR, self.marshaller.encode_error(error)))
        return None

    def serve(self, handler: Handler) -> None:
        read = self.reader.read
        head_size = protocol.FRAME.size
        while True:
            head = read(head_size)
            if len(head) < head_size:
                return  # the parent closed the socket: stop
            size, kind = protocol.FRAME.unpack(head)
            body = read(size)
            if kind != protocol.INVOKE or len(body) < size:
                return
            header, event = protocol.split_headed(body)
            reap_unwaited()   # children the function never waited for (one syscall when none exited)
            self.invoke(handler, loads(header.decode()), event)

    def invoke(self, handler: Handler, request: dict[str, Any], event_bytes: bytes) -> None:
        request_id = request["id"]
        logs.set_request_id(request_id)
        trace_id = request.get("trace_id")
        if trace_id is not None or self.trace_id is not None:
            self.trace_id = _set_trace_id(trace_id)
        started = time.perf_counter()
        kind, error_type = protocol.RESULT, ""
        try:
            context = LambdaContext(request_id, request["deadline_ms"], request["arn"],
                                    parse_client_context(request.get("client_context")))
            event = self.marshaller.decode_event(event_bytes)
            body, raw = self.marshaller.encode_result(handler(event, context))
        except Fault as fault:
            kind, body, raw, error_type = self._fail(errors.from_fault(fault, request_id))
        except Exception as exc:
            kind, body, raw, error_type = self._fail(errors.from_exception(exc, request_id))
        duration_ms = (time.perf_counter() - started) * 1000
        self.output.end_invocation()
        self._reply(kind, duration_ms, raw, error_type, body)

    def _fail(self, error: dict[str, Any]) -> tuple[int, bytes, bool, str]:
        self.output.write(errors.log_text(error))
        return protocol.ERROR, self.marshaller.encode_error(error), False, error["errorType"]

    def _reply(self, kind: int, duration_ms: float, raw: bool, error_type: str, body: bytes) -> None:
        rss_kb = self.memory.peak_kb()
        if kind == protocol.RESULT:
            header = b'{"duration_ms":%.3f,"max_rss_kb":%d,"raw":%s}' % (
                duration_ms, rss_kb, b"true" if raw else b"false")
        else:
            header = b'{"duration_ms":%.3f,"max_rss_kb":%d,"raw":false,"error_type":%s}' % (
                duration_ms, rss_kb, json.dumps(error_type).encode())
        self.sender.send(protocol.headed_frame(kind, header, body))


def imported_by_init(before: set[str], code_dir: str) -> list[str]:
    """The modules init imported from elsewhere than the function's own folder, in import order:
    what a zygote for this environment may import ahead of the next instance (at most
    MAX_RECORDED_MODULES; never the function's own, never the runtime's)."""
    prefix = os.path.join(os.path.abspath(code_dir), "")
    found: list[str] = []
    for name, module in list(sys.modules.items()):
        if name in before or name.startswith(("_lambdalite_runtime", "__main__")):
            continue
        path = getattr(module, "__file__", None)
        if isinstance(path, str) and os.path.abspath(path).startswith(prefix):
            continue
        if path is None and not hasattr(module, "__path__"):   # built-in and frozen modules: cheap anyway
            continue
        found.append(name)
        if len(found) >= protocol.MAX_RECORDED_MODULES:
            break
    return found


def _set_trace_id(trace_id: str | None) -> str | None:
    """_X_AMZN_TRACE_ID follows each invocation's trace header, and is removed without one."""
    if trace_id is not None:
        os.environ["_X_AMZN_TRACE_ID"] = trace_id
    else:
        os.environ.pop("_X_AMZN_TRACE_ID", None)
    return trace_id


def take_private_environment() -> dict[str, str]:
    """Remove the platform's own variables before user code can see them."""
    private = {k: v for k, v in os.environ.items() if k.startswith(protocol.PRIVATE_PREFIX)}
    for name in private:
        del os.environ[name]
    return private


def die_with_parent(parent_pid: str | None) -> None:
    """A worker must not outlive the server, even a `kill -9` of it mid-invocation: Linux's
    parent-death signal (prctl PR_SET_PDEATHSIG), then a check that the parent is still the one
    that started us (it may have died before prctl ran). Elsewhere: the socket's EOF only."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)   # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if parent_pid and os.getppid() != int(parent_pid):
        os._exit(0)


_PRCTL: list[Any] = []   # libc's prctl, looked up once (a zygote's forks use its lookup)


def set_process_name(name: str) -> None:
    """The name `ps -o comm` and /proc/PID/comm show (15 bytes at most; Linux only)."""
    try:
        if not _PRCTL:
            import ctypes

            _PRCTL.append(ctypes.CDLL(None).prctl)
        _PRCTL[0](15, name.encode()[:15])   # PR_SET_NAME
    except (OSError, AttributeError):
        pass


def with_pth_entries(path: list[str], site_dirs: set[str]) -> list[str]:
    """`path` with, right after each site directory, what its .pth files add (as `site` does for
    site-packages: a line is a directory relative to it, kept when it exists; a line starting with
    `import` is run; `#` lines are comments). A dependency environment is such a directory."""
    out: list[str] = []
    for entry in path:
        out.append(entry)
        if entry not in site_dirs:
            continue
        try:
            names = sorted(n for n in os.listdir(entry) if n.endswith(".pth") and not n.startswith("."))
        except OSError:
            continue
        for name in names:
            out.extend(p for p in _pth_lines(os.path.join(entry, name), entry) if p not in out)
    return out


def _pth_lines(pth: str, site_dir: str) -> list[str]:
    found: list[str] = []
    try:
        with open(pth, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except (OSError, UnicodeDecodeError):
        return found
    for line in lines:
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith(("import ", "import\t")):
            try:
                exec(line)   # noqa: S102 - what site.py does with such a line, for the function's own packages
            except Exception:  # noqa: BLE001 - site.py reports and goes on; so do we
                pass
            continue
        directory = os.path.abspath(os.path.join(site_dir, line.rstrip()))
        if os.path.isdir(directory):
            found.append(directory)
    return found


def join_cgroups(folders: list[str]) -> None:
    """Move this process into its instance's cgroups (before any user code runs)."""
    pid = str(os.getpid())
    for folder in folders:
        try:
            with open(os.path.join(folder, "cgroup.procs"), "w") as procs:
                procs.write(pid)
        except OSError as exc:
            os.write(2, f"[lambdalite] could not join the cgroup {folder}: {exc}\n".encode())


def make_tmpdir() -> None:
    """The instance's own TMPDIR, named by the pool: made here, before user code runs."""
    folder = os.environ.get("TMPDIR")
    if folder:
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
        except OSError as exc:
            os.write(2, f"[lambdalite] could not make TMPDIR {folder}: {exc}\n".encode())


def set_path(private: dict[str, str]) -> None:
    """sys.path = the function's path (with its site directories' .pth entries) + the standard library."""
    user_path = [p for p in private.get(protocol.PATH_VARIABLE, "").split(os.pathsep) if p]
    site_dirs = {p for p in private.get(protocol.SITE_VARIABLE, "").split(os.pathsep) if p}
    sys.path[:] = with_pth_entries(user_path, site_dirs) + sys.path   # what is left: the standard library


def main() -> None:
    """A fresh worker: started by the server itself."""
    private = take_private_environment()
    die_with_parent(private.get(protocol.PARENT_VARIABLE))
    join_cgroups([f for f in private.get(protocol.CGROUPS_VARIABLE, "").split(os.pathsep) if f])
    make_tmpdir()
    set_path(private)
    sys.exit(run(socket.socket(fileno=int(private[protocol.FD_VARIABLE])), private[protocol.HANDLER_VARIABLE],
                 peak_file=private.get(protocol.PEAK_VARIABLE)))


def provide_hooks() -> None:
    """`import snapshot_restore_py` finds the runtime's hooks, as Lambda's runtime bundles them."""
    from . import hooks

    sys.modules.setdefault("snapshot_restore_py", hooks)


def run(sock: socket.socket, handler_name: str, code_dir: str | None = None, peak_file: str | None = None) -> int:
    """Init, then serve until the parent closes the socket. The exit status: 1 after an init error."""
    provide_hooks()
    sock.set_inheritable(False)
    output = logs.Output(logs.Sender(sock.sendall))
    output.install()
    logs.setup_logging(output)
    worker = Worker(sock, output, peak_file)
    handler = worker.init(handler_name, code_dir or os.getcwd())
    if handler is None:
        return 1
    worker.serve(handler)
    return 0
