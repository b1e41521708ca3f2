"""Starting a worker process: the command line, its environment, its file descriptors.

The worker runs `python -I -S -B -c LAUNCH_CODE <launcher dir>`: isolated mode and no site, so
neither site-packages, PYTHONPATH nor a script directory reach it, and no bytecode written (code
folders are stamped and must stay as unpacked: they and environments are compiled when made, see
functions.archive.compile_tree and build.uv.install); the platform's own packages
(lambdalite, uvicorn, click) cannot be imported by a function. The launcher dir holds one link,
`_lambdalite_runtime`, to `lambdalite/runtime`: the worker imports the runtime under that name,
takes the dir off sys.path again, and sets sys.path to the function's path + the standard library.
"""

from __future__ import annotations

import compileall
import contextlib
import os
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..runtime import protocol
from .walls import Identity

RUNTIME_PACKAGE = Path(__file__).resolve().parent.parent / "runtime"
LINK_NAME = "_lambdalite_runtime"

LAUNCH_CODE = (
    "import sys\n"
    "sys.path.insert(0, sys.argv[1])\n"
    "import _lambdalite_runtime.bootstrap as b\n"
    "del sys.path[0], sys.argv[1:]\n"
    "b.main()\n"
)
ZYGOTE_CODE = LAUNCH_CODE.replace("bootstrap as b", "zygote as b")
TEMPLATE_CODE = LAUNCH_CODE.replace("bootstrap as b", "template as b")


def ensure_launcher(runtime_dir: Path) -> Path:
    """`<runtime_dir>/launcher/_lambdalite_runtime` -> the runtime package; returns the dir. The
    package is compiled to bytecode where it can be (instances never write it, and an editable
    install was never compiled): a fresh interpreter then loads the runtime instead of compiling it."""
    with contextlib.suppress(OSError):
        compileall.compile_dir(RUNTIME_PACKAGE, quiet=2)
    launcher = runtime_dir / "launcher"
    launcher.mkdir(parents=True, exist_ok=True)
    link = launcher / LINK_NAME
    if not (link.is_symlink() and link.resolve() == RUNTIME_PACKAGE):
        tmp = launcher / f".{LINK_NAME}.{os.getpid()}"
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(RUNTIME_PACKAGE, target_is_directory=True)
        tmp.replace(link)  # atomic: a worker starting meanwhile sees the old or the new link
    return launcher


@dataclass(frozen=True)
class Launch:
    """An instance spec resolved to this machine: the interpreter, the code folder (the worker's
    cwd), the import path in order, and the complete process environment."""

    python: str
    cwd: str
    sys_path: tuple[str, ...]
    env: dict[str, str]
    handler: str
    site_dirs: tuple[str, ...] = ()   # entries of sys_path whose .pth files count (dependency environments)
    identity: Identity | None = None  # the function's own user (pool.walls), None: the server's

    @property
    def zygote_key(self) -> tuple[str, tuple[str, ...], tuple[str, ...], Identity | None]:
        """Instances whose launches share this key may fork from one zygote: same interpreter,
        same path after the function's folder (environment, layers, bundle), same user and groups
        (with walls, a zygote is its function's: it runs as that function's user with the groups of
        its folders, and nothing of another function's is ever in its memory)."""
        return self.python, self.sys_path[1:], self.site_dirs, self.identity

    def as_user(self) -> dict[str, Any]:
        """Popen's arguments that start a process as the launch's user (none without walls)."""
        if self.identity is None:
            return {}
        return {"user": self.identity.uid, "group": self.identity.gid, "extra_groups": list(self.identity.groups)}


@dataclass
class Spawned:
    """A started worker: its process, the parent's end of the socket, the read end of its
    stdout/stderr pipe."""

    process: subprocess.Popen[bytes]
    sock: socket.socket
    pipe_fd: int


@dataclass
class Channels:
    """The two ends a worker needs: the parent keeps `sock` and `pipe_r`; the worker gets
    `child` and `pipe_w` (the caller closes those once the worker has them)."""

    sock: socket.socket
    child: socket.socket
    pipe_r: int
    pipe_w: int

    @classmethod
    def make(cls) -> Channels:
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        read_fd, write_fd = os.pipe()
        return cls(parent, child, read_fd, write_fd)

    def handed_over(self) -> None:
        self.child.close()
        os.close(self.pipe_w)

    def close(self) -> None:
        self.handed_over()
        self.sock.close()
        os.close(self.pipe_r)


def spawn(launch: Launch, launcher: Path, cgroups: tuple[str, ...] = (), peak_file: str | None = None,
          extra_env: dict[str, str] | None = None) -> Spawned:
    ends = Channels.make()
    try:
        env = _environment(launch, ends.child.fileno())
        env.update(extra_env or {})   # this instance's own (TMPDIR)
        env[protocol.HANDLER_VARIABLE] = launch.handler
        if cgroups:
            env[protocol.CGROUPS_VARIABLE] = os.pathsep.join(cgroups)
        if peak_file:
            env[protocol.PEAK_VARIABLE] = peak_file
        process = subprocess.Popen(
            [launch.python, "-I", "-S", "-B", "-c", LAUNCH_CODE, str(launcher)],
            cwd=launch.cwd, env=env, stdin=subprocess.DEVNULL, stdout=ends.pipe_w, stderr=ends.pipe_w,
            pass_fds=(ends.child.fileno(),), start_new_session=True, **launch.as_user(),
        )
    except BaseException:
        ends.close()
        raise
    ends.handed_over()
    return Spawned(process, ends.sock, ends.pipe_r)


def spawn_zygote(launch: Launch, launcher: Path, env: dict[str, str],
                 template: bool = False) -> tuple[subprocess.Popen[bytes], socket.socket]:
    """A zygote for the launches sharing `launch.zygote_key`: (its process, the parent's end of its
    SEQPACKET socket). `env` is the zygote's own environment while it imports (each worker then
    takes its function's). `template`: instead, the snapshot template of `launch` itself (its
    folder, path, environment and handler; it runs init before it forks)."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        if template:
            code, cwd, full = TEMPLATE_CODE, launch.cwd, _environment(launch, child.fileno())
            full[protocol.HANDLER_VARIABLE] = launch.handler
        else:
            zygote_launch = Launch(python=launch.python, cwd="/", sys_path=launch.sys_path[1:], env=env,
                                   handler="", site_dirs=launch.site_dirs, identity=launch.identity)
            code, cwd, full = ZYGOTE_CODE, "/", _environment(zygote_launch, child.fileno())
        process = subprocess.Popen(
            [launch.python, "-I", "-S", "-B", "-c", code, str(launcher)],
            cwd=cwd, env=full, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL if template else None, pass_fds=(child.fileno(),),
            start_new_session=True, **launch.as_user(),
        )
    except BaseException:
        parent.close()
        raise
    finally:
        child.close()
    return process, parent


def _environment(launch: Launch, fd: int) -> dict[str, str]:
    env = dict(launch.env)
    env[protocol.FD_VARIABLE] = str(fd)
    env[protocol.PATH_VARIABLE] = os.pathsep.join(launch.sys_path)
    env[protocol.SITE_VARIABLE] = os.pathsep.join(launch.site_dirs)
    env[protocol.PARENT_VARIABLE] = str(os.getpid())
    return env
