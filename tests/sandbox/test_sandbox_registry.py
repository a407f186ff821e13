"""The sandbox registry is the one list: world, server, fault injection, options, credentials and CLI follow it."""

from __future__ import annotations

import httpx
import pytest
from served_sandbox import SMALL, Served
from typer.testing import CliRunner

from cli.sandbox import app
from sandbox.core.ids import digits_only
from sandbox.core.platform import BankOpener, StoreFounder
from sandbox.options import ServerOptions
from sandbox.registry import BANK, PLATFORMS, STORES, platform
from sandbox.world import World

NAMES = [p.name for p in PLATFORMS]


def test_the_world_composes_every_platform_in_registry_order(small_world: World) -> None:
    assert list(small_world.facts) == NAMES
    generators = {p.name: p.generator(small_world.config) for p in PLATFORMS}
    assert isinstance(generators[STORES], StoreFounder) and isinstance(generators[BANK], BankOpener)
    statuses = list(dict.fromkeys(s for p in NAMES for s in small_world.facts[p].statuses))  # shared ones once
    assert list(small_world.status_counts()) == statuses
    assert sum(small_world.status_counts().values()) == len(small_world.ground_truth())


def test_credentials_have_one_entry_per_platform(small_world: World) -> None:
    credentials = small_world.credentials("http://host:1/")
    assert credentials["base_urls"] == {name: f"http://host:1/{name}" for name in NAMES}
    for tenant, listed in zip(small_world.tenants, credentials["tenants"], strict=True):
        assert list(listed) == ["tenant_id", *NAMES]
        for name in NAMES:
            if "accounts" in listed[name]:  # a gateway: one integration per store account, named after it
                accounts = listed[name]["accounts"]
                assert [a["store"] for a in accounts] == [s.name for s in tenant.stores]
                assert [[digits_only(d) for d in a["payout_documents"]] for a in accounts] == [
                    [s.cnpj_digits] for s in tenant.stores
                ]
                assert all(a["name"] and a["webhook_secret"] for a in accounts)
                continue
            assert listed[name]["client_id"] == tenant.credentials[name].client_id
            assert listed[name]["client_secret"] == tenant.credentials[name].client_secret


def test_every_platform_is_mounted_faulted_and_answers_faults_in_its_own_envelope(
    http: httpx.Client, served: Served
) -> None:
    for p in PLATFORMS:
        reply = http.post(
            "/_sandbox/faults", json={"provider": p.name, "path_prefix": "/", "responses": [{"status": 503}]}
        )
        assert reply.status_code == 201, reply.text
        faulted = http.get(f"/{p.name}/anything")
        assert faulted.status_code == 503 and faulted.json() == p.error_body(503, "Fault injected by the sandbox")
        unknown = http.get(f"/{p.name}/anything")
        assert unknown.status_code == 404, "mounted: the platform itself answers its unknown path"
        logged = http.get("/_sandbox/requests", params={"provider": p.name, "limit": 2}).json()
        assert [e["fault"] for e in logged] == [True, False]
    refused = http.post("/_sandbox/faults", json={"provider": "nobody", "responses": [{"status": 503}]})
    assert refused.status_code == 400 and refused.json()["error"] == f"provider must be one of {', '.join(NAMES)}"


def test_server_options_hold_every_platforms_knobs() -> None:
    options = ServerOptions()
    assert list(options.platforms) == NAMES
    assert all(type(options.of(p.name)) is type(p.options()) for p in PLATFORMS)
    off = options.with_rate_limit(0)
    assert set(off.rate_limits().values()) == {None}
    assert set(options.rate_limits()) == set(off.rate_limits()) and all(options.rate_limits().values())
    changed = options.with_platform(NAMES[0], rate_limit=7)
    assert changed.rate_limits()[NAMES[0]] == 7 and options.rate_limits()[NAMES[0]] != 7, "options stay frozen"
    assert ServerOptions(platforms={}).platforms == options.platforms, "a platform left out keeps its defaults"
    with pytest.raises(ValueError, match="no sandbox platform nobody"):
        ServerOptions(platforms={"nobody": options.of(NAMES[0])})
    with pytest.raises(KeyError, match="no sandbox platform 'nobody'"):
        platform("nobody")


def test_the_cli_lists_every_platform() -> None:
    result = CliRunner().invoke(app, ["credentials", "--days", str(SMALL.days)])
    assert result.exit_code == 0, result.stderr
    for p in PLATFORMS:
        assert f"{p.title} base URL:" in result.stdout and f"/{p.name}\n" in result.stdout
    help_text = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"}).stdout
    assert all(f"{p.title} knobs" in help_text for p in PLATFORMS if p.knobs is not None)
