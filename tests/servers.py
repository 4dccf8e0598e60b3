"""A uvicorn subprocess on a loopback port, as the browser tests, the fault tests and bench/http.py
run the service: started, waited for until it answers, and stopped gracefully (SIGTERM, then kill)."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def uvicorn_process(
    target: str, env: dict[str, str], log: Path, *, workers: int = 1, ready_path: str = "/readyz",
    start_timeout: float = 60, extra_args: tuple[str, ...] = (),
) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """Serve `target` ("module:attribute"; app.main:create_app as a factory) until the block ends; yield the
    process and its base URL once `ready_path` answers 200. Output goes to `log`."""
    port = free_port()
    # As `make run` starts it: at most 3 s for requests in flight at SIGTERM (README, Operations).
    command = [sys.executable, "-m", "uvicorn", target, "--host", "127.0.0.1", "--port", str(port),
               "--no-access-log", "--no-proxy-headers", "--timeout-graceful-shutdown", "3", *extra_args]
    if target == "app.main:create_app":
        command.append("--factory")
    if workers > 1:
        command += ["--workers", str(workers)]
    base = f"http://127.0.0.1:{port}"
    with serving(command, env, log, ready_url=f"{base}{ready_path}", workers=workers,
                 start_timeout=start_timeout) as process:
        yield process, base


@contextmanager
def serving(command: list[str], env: dict[str, str] | None, log: Path, *, ready_url: str, workers: int = 1,
            start_timeout: float = 60) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server `command` until the block ends; yield its process once `ready_url` answers 200.
    Output goes to `log`; stopped with SIGTERM (then killed after 30 s)."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + start_timeout
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{command[0]} did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        if workers > 1:
            time.sleep(1.5)  # the first worker answered; let the others finish their start-up
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
