"""A Prefect server on 127.0.0.1 for a command run without PREFECT_API_URL.

Prefect starts a temporary server of its own when no API is configured, but that server is
"ephemeral": it runs none of the server's services, so the scheduler never creates the cron's
runs and `serve` would wait for ever. Its process also outlives a command killed with SIGKILL.
`local_server` starts the same uvicorn app as a child that dies with this process (Linux's
parent-death signal), with every service on when it has to schedule.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, ClassVar

import prefect
from prefect.server.api.server import SubprocessASGIServer
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent thread exits


def _libc() -> ctypes.CDLL | None:
    # the symbols of this process, libc's among them: no library lookup (find_library runs a
    # program, which a child must not do between fork and exec)
    if sys.platform != "linux":
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _dying_with(parent: int) -> Callable[[], None] | None:
    """What the child runs between fork and exec: SIGTERM it when the command's process ends,
    also by SIGKILL, so no server is left behind. Without prctl (not Linux) the server stays
    until Prefect's atexit stop, as Prefect's own temporary server does."""
    libc = _LIBC
    if libc is None:
        return None

    def die_with_parent() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return die_with_parent


class LocalServer(SubprocessASGIServer):
    # Prefect keeps one instance per port in a class dict: this subclass keeps its own, so it
    # never hands back (or stops) the temporary server Prefect or its test harness started
    _instances: ClassVar[dict[int | None, SubprocessASGIServer]] = {}  # type: ignore[misc]
    scheduling = False

    def _run_uvicorn_command(self) -> subprocess.Popen[Any]:
        server_env = {"PREFECT_UI_ENABLED": "0", "PREFECT__SERVER_FINAL": "1"}
        inherited = {**os.environ, **get_current_settings().to_environment_variables(exclude_unset=True)}
        if self.scheduling:
            # a full server: the scheduler, late-run marking and the other services run
            inherited.pop("PREFECT__SERVER_EPHEMERAL", None)
        else:
            server_env["PREFECT__SERVER_EPHEMERAL"] = "1"
        # the command line Prefect's own temporary server is started with
        command = [sys.executable, "-m", "uvicorn", "--app-dir", str(prefect.__module_path__.parent)]
        command += ["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1"]
        command += ["--port", str(self.port), "--log-level", "error", "--lifespan", "on"]
        return subprocess.Popen(
            command,
            env={**inherited, **server_env},
            preexec_fn=_dying_with(os.getpid()),
        )


@contextmanager
def local_server(*, scheduling: bool = False) -> Iterator[str | None]:
    """Point Prefect at a server of this process's own while the block runs; yields its API
    URL, or None when PREFECT_API_URL is already set (that server is used as it is).

    `scheduling`: run the server's services (the scheduler above all), for `serve`.
    """
    if PREFECT_API_URL.value():
        yield None
        return
    server = LocalServer()
    server.scheduling = scheduling
    server.start()
    before = os.environ.get("PREFECT_API_URL")
    try:
        # flow runs that `serve` spawns inherit the environment, so they find this server too
        os.environ["PREFECT_API_URL"] = server.api_url
        with temporary_settings({PREFECT_API_URL: server.api_url}):
            yield server.api_url
    finally:
        # the run's last log lines and events are still queued for the API: send them while
        # the server is up, or Prefect prints "Error logging to API" once it is gone
        _drain_to_api()
        if before is None:
            os.environ.pop("PREFECT_API_URL", None)
        else:
            os.environ["PREFECT_API_URL"] = before
        server.stop()


def _drain_to_api(timeout: float = 10.0) -> None:
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        try:
            worker.drain_all(timeout=timeout)
        except Exception:  # a worker that never started, or Prefect's internals moved
            continue
