"""`conciliador sandbox deliver`: the sandbox's signed notifications over real HTTP, verified by our schemes.

A small receiver on a loopback socket checks every POST the command sends with the provider's own
webhook scheme (plugins/providers/<name>/webhook.py) and the account's secret from the world's
credentials, as the webhook sink will: each must verify and parse, and each answer is a 2xx.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest
from typer.testing import CliRunner

from cli.sandbox import app
from plugins.providers.errors import WebhookError
from plugins.providers.registry import provider_class
from sandbox.registry import platform
from sandbox.world import World, WorldConfig

KNOBS = {"seed": 3, "tenants": 1, "stores_per_tenant": 1, "days": 6}
ARGS = ["--seed", "3", "--tenants", "1", "--stores-per-tenant", "1", "--days", "6"]
GATEWAYS = ("stripe", "mercadopago", "asaas", "pushinpay")


class Receiver:
    """Verifies each POST with `provider`'s scheme and the secret of the account named in its path."""

    def __init__(self, provider: str, secrets: dict[str, str]) -> None:
        self.scheme = provider_class(provider).webhook
        self.secrets = secrets
        self.verified: list[str] = []
        self.refused: list[str] = []

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> int:
        parts = urlsplit(path)
        account = parts.path.rsplit("/", 1)[-1]
        try:
            self.scheme.verify(self.secrets[account], headers, body, query=dict(parse_qsl(parts.query)))
            self.verified.append(self.scheme.parse(body).event_id)
            return 200
        except (WebhookError, KeyError) as exc:
            self.refused.append(f"{type(exc).__name__}: {exc}")
            return 401


@pytest.fixture
def serve() -> Iterator:
    servers = []

    def start(receiver: Receiver) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                code = receiver.handle(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(code)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/integrations/webhooks"

    yield start
    for server in servers:
        server.shutdown()


@pytest.mark.parametrize("name", GATEWAYS)
def test_every_notification_arrives_signed_as_the_platform_signs_it(name: str, serve) -> None:
    world = World(WorldConfig(**KNOBS))
    (account,) = world.credentials("")["tenants"][0][name]["accounts"]
    receiver = Receiver(name, {account["name"]: account["webhook_secret"]})
    url = serve(receiver) + f"/{name}/{account['name']}"
    result = CliRunner().invoke(app, ["deliver", *ARGS, "--platform", name, "--url", url])
    expected = platform(name).webhooks(world.facts[name], account["name"], now=datetime.now(UTC))
    assert result.exit_code == 0, (result.output, receiver.refused[:3])
    assert receiver.refused == [] and len(receiver.verified) == len(expected) > 0
    assert f"sent {len(expected):,}" in result.output and "200:" in result.output


def test_a_receiver_with_another_secret_refuses_them_and_the_command_says_so(serve) -> None:
    world = World(WorldConfig(**KNOBS))
    (account,) = world.credentials("")["tenants"][0]["stripe"]["accounts"]
    receiver = Receiver("stripe", {account["name"]: "whsec_not_the_one"})
    url = serve(receiver) + f"/stripe/{account['name']}"
    result = CliRunner().invoke(app, ["deliver", *ARGS, "--platform", "stripe", "--url", url])
    assert result.exit_code == 1 and "401:" in result.output
    assert receiver.verified == [] and all("BadSignatureError" in r for r in receiver.refused)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--platform", "ifood"], "iFood sends no webhooks"),
        (["--platform", "nobody"], "no sandbox platform 'nobody'"),
        (["--platform", "stripe", "--account", "nope"], "no Stripe account 'nope'"),
    ],
)
def test_bad_choices_are_one_sentence(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["deliver", *ARGS, *args, "--url", "http://127.0.0.1:9/x"])
    assert result.exit_code == 2 and message in result.output
