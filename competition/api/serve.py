"""`inpaint serve`: uvicorn with the settings a server facing a class needs.

- A deadline for the request line and headers (HEADER_TIMEOUT_S): uvicorn's own h11 protocol waits
  for them forever, so a client that sends half a header would hold its connection as long as it
  likes; its keep-alive timeout only runs between two requests. The body has its own deadline
  (competition/api/limits.py).
- Each worker of `--workers N` exits when the master dies (INPAINT_SERVE_PID; competition/lifeline.py).
"""
from __future__ import annotations

import os

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

HEADER_TIMEOUT_S = float(os.environ.get("INPAINT_HEADER_TIMEOUT_S", "10"))
PROTOCOL = "competition.api.serve:HeaderTimeoutProtocol"  # by name: each worker process imports it


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request headers are not complete within
    HEADER_TIMEOUT_S of its opening (or of the end of the previous response)."""

    header_timer = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._arm_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm_header_timer()  # the next request's headers get the same time

    def connection_lost(self, exc) -> None:
        self._disarm_header_timer()
        super().connection_lost(exc)

    def _arm_header_timer(self) -> None:
        self._disarm_header_timer()
        self.header_timer = self.loop.call_later(HEADER_TIMEOUT_S, self._headers_too_late)

    def _disarm_header_timer(self) -> None:
        if self.header_timer is not None:
            self.header_timer.cancel()
            self.header_timer = None

    def _headers_too_late(self) -> None:
        self.header_timer = None
        # h11 leaves IDLE only once a request's headers are complete; a request under way is not cut
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def run(comp_dir, db_url: str | None, host: str, port: int, workers: int, judge_processes: int,
        log_level: str) -> None:
    """Serve the competition in COMP until stopped (Ctrl-C, SIGTERM)."""
    import uvicorn

    os.environ["INPAINT_COMP_DIR"] = str(comp_dir)
    os.environ["INPAINT_DB_URL"] = db_url or ""
    os.environ["INPAINT_JUDGE_PROCESSES"] = str(judge_processes)
    os.environ["INPAINT_SERVE_PID"] = str(os.getpid())
    uvicorn.run("competition.api:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, timeout_graceful_shutdown=5, http=PROTOCOL,
                proxy_headers=False)  # applied by app_from_env, after folding the scheme's case
