"""One ASGI server for the whole sandbox: every registered platform's fake API at `/<name>`, the
control surface at `/_sandbox`.

Each platform (sandbox.registry) is mounted under its own prefix so an unmodified client pointed
at `http://host:port/<name>` sees the platform's own paths. The control surface is outside every
prefix so it can never shadow a platform path:

    GET    /_sandbox/health        world summary; 200 once the server is serving
    GET    /_sandbox/credentials   World.credentials() for this server's base URL
    GET    /_sandbox/requests      recent requests, oldest first (?provider=&path_prefix=&limit=)
    DELETE /_sandbox/requests      forget them
    GET    /_sandbox/faults        queued faults
    POST   /_sandbox/faults        queue a fault (see sandbox.control)
    DELETE /_sandbox/faults        drop every queued fault

plus the routes a platform serves outside its prefix (pre-signed-style download links under
`/_sandbox/files/`), logged and faulted as that platform's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.types import ASGIApp

from sandbox.core.control import ControlMiddleware, FaultBook, RequestLog
from sandbox.core.httputil import json_response
from sandbox.core.platform import PlatformApi
from sandbox.options import ServerOptions
from sandbox.registry import PLATFORMS
from sandbox.world import World, WorldConfig


class Sandbox:
    """A world, every registered platform's fake API and the control state, assembled into one ASGI app."""

    def __init__(
        self, world: World, options: ServerOptions | None = None, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        """`clock` (monotonic seconds) is what rate-limit windows and on-demand report ages are
        measured with; a test passes one it advances instead of sleeping through a window."""
        self.world = world
        self.options = options or ServerOptions()
        window = self.options.rate_limit_window_s
        self.apis: dict[str, PlatformApi] = {
            p.name: p.api(world, world.facts[p.name], self.options.of(p.name), window_s=window, clock=clock)
            for p in PLATFORMS
        }
        self.faults = FaultBook(tuple(self.apis))
        self.log = RequestLog(self.options.request_log_size)

    def app(self) -> Starlette:
        outside = [(name, o) for name, api in self.apis.items() for o in api.outside_routes()]
        routes = [
            Route("/_sandbox/health", self.health, methods=["GET"]),
            Route("/_sandbox/credentials", self.credentials, methods=["GET"]),
            Route("/_sandbox/requests", self.requests, methods=["GET", "DELETE"]),
            Route("/_sandbox/faults", self.fault_queue, methods=["GET", "POST", "DELETE"]),
            *(o.route for _, o in outside),
            *(Mount(f"/{name}", app=api.app()) for name, api in self.apis.items()),
        ]
        control = Middleware(
            ControlMiddleware,
            faults=self.faults,
            log=self.log,
            error_bodies={p.name: p.error_body for p in PLATFORMS},
            outside={o.prefix: name for name, o in outside},
        )
        return Starlette(routes=routes, middleware=[control])

    def close(self) -> None:
        for api in self.apis.values():
            api.close()

    async def health(self, request: Request) -> Response:
        world = self.world
        counts = {key: n for facts in world.facts.values() for key, n in facts.summary().items()}
        return json_response(
            {
                "status": "ok",
                "config": world.config.to_dict(),
                "as_of": world.as_of.isoformat(),
                **counts,
                "bank_transactions": world.bank_transaction_count,
                "status_counts": world.status_counts(),
                "rate_limits": self.options.rate_limits(),
            }
        )

    async def credentials(self, request: Request) -> Response:
        return json_response(self.world.credentials(str(request.base_url).rstrip("/")))

    async def requests(self, request: Request) -> Response:
        if request.method == "DELETE":
            self.log.clear()
            return json_response({"cleared": True})
        params = request.query_params
        limit = params.get("limit")
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            return json_response({"error": "limit must be a positive integer"}, 400)
        return json_response(
            self.log.entries(
                provider=params.get("provider"),
                path_prefix=params.get("path_prefix"),
                limit=int(limit) if limit else None,
            )
        )

    async def fault_queue(self, request: Request) -> Response:
        if request.method == "GET":
            return json_response(self.faults.describe())
        if request.method == "DELETE":
            return json_response({"cleared": self.faults.clear()})
        try:
            spec = await request.json()
        except ValueError:
            return json_response({"error": "the body must be JSON"}, 400)
        try:
            fault = self.faults.add(spec)
        except ValueError as exc:
            return json_response({"error": str(exc)}, 400)
        return json_response(fault.describe(), 201)


def _world_of(source: World | WorldConfig | None) -> World:
    if isinstance(source, World):
        return source
    if source is None or isinstance(source, WorldConfig):
        return World(source)
    raise TypeError(f"expected a World or a WorldConfig, got {type(source).__name__}")


def create_app(
    source: World | WorldConfig | None = None,
    options: ServerOptions | None = None,
    *,
    clock: Callable[[], float] = time.monotonic,
) -> Starlette:
    """The sandbox ASGI app for a world (or the world of a config)."""
    return Sandbox(_world_of(source), options, clock=clock).app()


def _uvicorn_config(app: ASGIApp, host: str, port: int) -> uvicorn.Config:
    return uvicorn.Config(
        app, host=host, port=port, log_level="warning", access_log=False, lifespan="off", timeout_keep_alive=30
    )


def serve(
    config: World | WorldConfig | None = None,
    host: str = "127.0.0.1",
    port: int = 8600,
    *,
    options: ServerOptions | None = None,
) -> None:
    """Serve the sandbox until interrupted (blocking)."""
    sandbox = Sandbox(_world_of(config), options)
    try:
        uvicorn.Server(_uvicorn_config(sandbox.app(), host, port)).run()
    finally:
        sandbox.close()


def start_in_thread(
    config: World | WorldConfig | None = None,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    options: ServerOptions | None = None,
    timeout_s: float = 30.0,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[str, Callable[[], None]]:
    """Serve the sandbox on a real socket from a background thread; returns (base URL, stop).

    `port=0` picks a free port. The server is accepting connections when this returns; `stop()`
    shuts it down and waits for the thread. `clock`: see `Sandbox`.
    """
    sandbox = Sandbox(_world_of(config), options, clock=clock)
    server = uvicorn.Server(_uvicorn_config(sandbox.app(), host, port))
    thread = threading.Thread(target=server.run, name=f"sandbox-{host}:{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sandbox.close()
            raise RuntimeError(f"the sandbox server did not start on {host}:{port}")
        time.sleep(0.01)
    bound_port = _bound_port(server)
    stopped = False

    def stop() -> None:
        nonlocal stopped
        if stopped:
            return
        stopped = True
        server.should_exit = True
        thread.join(timeout=10)
        sandbox.close()

    return f"http://{host}:{bound_port}", stop


def _bound_port(server: uvicorn.Server) -> int:
    servers: list[Any] = getattr(server, "servers", [])
    for srv in servers:
        for sock in srv.sockets:
            return int(sock.getsockname()[1])
    raise RuntimeError("the sandbox server has no listening socket")
