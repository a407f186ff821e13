"""The sink's ASGI app: `create_app(settings)`.

Routes: `POST /integrations/webhooks/{provider}` (for a deployment with one integration of the
provider, or several: the one whose secret verifies the request), `POST
/integrations/webhooks/{provider}/{integration id}` (one deployment, many tenants: each integration
gives its platform its own URL), `GET /health` and `GET /metrics`. The group committer and the
secret cache start and stop with the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.routing import Route

from ingestion.vault import Keyring
from webhook_sink import routes
from webhook_sink.group_commit import GroupCommitter
from webhook_sink.metrics import SinkMetrics
from webhook_sink.secrets import TargetCache
from webhook_sink.state import SinkSettings, SinkState


def create_app(settings: SinkSettings, *, keyring: Keyring | None = None) -> Starlette:
    metrics = SinkMetrics()
    state = SinkState(
        settings,
        GroupCommitter(
            settings.database_url,
            writers=settings.writers,
            max_batch=settings.max_batch,
            commit_timeout_s=settings.commit_timeout_s,
            on_batch=metrics.batch_size.observe,
        ),
        TargetCache(settings.database_url, keyring or Keyring.load(), refresh_s=settings.secret_refresh_s),
        metrics,
    )

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.committer.start()
        await state.targets.start()
        try:
            yield
        finally:
            await state.targets.close()
            await state.committer.close()

    app = SinkApp(
        routes=[
            Route("/health", routes.health, methods=["GET"]),
            Route("/metrics", routes.metrics, methods=["GET"]),
        ],
        lifespan=lifespan,
    )
    app.state.sink = state
    app.webhooks = routes.WebhookEndpoint(state)
    return app


class SinkApp(Starlette):
    """Starlette for the lifespan, /health and /metrics; webhook requests go straight to their endpoint."""

    webhooks: routes.WebhookEndpoint

    async def __call__(self, scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        if scope["type"] == "http" and scope["path"].startswith(routes.PREFIX):
            await self.webhooks(scope, receive, send)
            return
        await super().__call__(scope, receive, send)
