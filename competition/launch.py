"""Start `inpaint serve` as a separate process on the loopback interface and wait until it answers:
for the load benchmark and the tests that need a real server."""
from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from submission.errors import UserError


def free_port() -> int:
    """A TCP port nobody listens on at this moment (the OS picks it)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_command(comp_dir: Path, port: int, workers: int = 1, db_url: str | None = None,
                  judge_processes: int | None = None) -> list[str]:
    """The `python -m inpaint serve` command line for 127.0.0.1:port."""
    cmd = [sys.executable, "-m", "inpaint", "serve", "--dir", str(comp_dir), "--host", "127.0.0.1",
           "--port", str(port), "--workers", str(workers)]
    if judge_processes is not None:
        cmd += ["--judge-processes", str(judge_processes)]
    return cmd + (["--db", db_url] if db_url else [])


class PortTaken(UserError):
    """Another server answered on the port chosen for ours (free_port's choice was taken meanwhile)."""


def wait_ready(url: str, server: subprocess.Popen, timeout_s: float = 120, title: str | None = None) -> None:
    """Return once GET url/api/competition answers 200 (with this competition's `title`, if given).

    UserError if the process exits or time runs out; PortTaken if another competition answers.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise UserError(f"the server exited with code {server.returncode}; see its log")
        try:
            with urllib.request.urlopen(url + "/api/competition", timeout=2) as response:
                if response.status == 200:
                    answered = json.loads(response.read()).get("title")
                    if title is not None and answered != title:
                        raise PortTaken(f"{url} is another server's ({answered!r})")
                    return
        except OSError:
            time.sleep(0.2)
    raise UserError(f"the server did not answer at {url} within {timeout_s:.0f} s")
