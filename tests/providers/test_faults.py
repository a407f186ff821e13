"""Every provider against every way a provider misbehaves: a real sync must absorb it or fail whole.

Each test runs `ingestion.sync.run_sync` (the DAG's own entry point) against a clean warehouse and
the sandbox served over a socket, with one fault queued through the sandbox's control surface
(`sandbox/control.py`). Transient faults (one 5xx, one timeout, one 429, one dropped connection,
one expired download link) must end with raw tables identical to a clean run's; everything else
must fail with its specific error class, leave every raw table empty and record a `failed` sync
run naming the error (design.md, "Completeness").

The table is providers × fault classes. A fault class is written once, in terms of a provider's
`ProviderCase` (where its main listing is, which field holds money, …), so a new provider gets
the whole suite by adding one `ProviderCase` to `CASES`; a class that needs something a provider
does not have (a pre-signed download) is left out for it.

Retries and polls wait through a recording fake `sleep` (no wall-clock time); only the timeout
classes spend real time (a 0.5 s read timeout). One world and one served sandbox serve the module.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import psycopg
import pytest

from ingestion import integrations
from ingestion.sync import run_sync
from ingestion.vault import Keyring, new_key_spec
from ingestion.webhook_landing import land
from plugins.providers.base import Interval
from plugins.providers.errors import (
    AuthenticationError,
    IncompleteExtractionError,
    NeedsUserActionError,
    NotLinkedError,
    ProviderError,
    RateLimitedError,
    RequestRejectedError,
    ResponseShapeError,
    SourceOutdatedError,
)
from plugins.providers.ifood.client import REPORT_LINK_ATTEMPTS
from plugins.providers.registry import PROVIDERS, RAW_TABLES, provider_class
from plugins.providers.transport import RetryPolicy, TransportOptions
from sandbox.options import ServerOptions
from sandbox.registry import platform
from sandbox.server import start_in_thread
from sandbox.world import World, WorldConfig

# One tenant, two stores (one with an anticipation plan, one without), ten days.
CONFIG = WorldConfig(
    seed=31, tenants=1, stores_per_tenant=2, days=10, orders_per_day=12, bank_noise_per_day=60, anticipation_rate=0.2,
    stripe_orders_per_day=12,  # Stripe's first account then has a refund and a dispute: all its tables land
)  # fmt: skip
INTERVAL = Interval.for_dates(CONFIG.start, CONFIG.start + timedelta(days=CONFIG.days - 1))
RETRIES = 2  # so "beyond the retries" is three faulty answers in a row
TIMEOUT_S = 0.5
HTML = "<html><head><title>502 Bad Gateway</title></head><body><center>nginx</center></body></html>"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


@dataclass(frozen=True)
class ProviderCase:
    """Where a provider keeps what the fault classes aim at. `{id}` is its first external id."""

    name: str
    listing: str  # path prefix of the paged listing that carries most records
    money_field: str  # dotted path of a money field in one of its records
    required_field: str  # a required field of those records
    record_named: str  # regex: how an error names the listing's 4th record (its `record_nth` record)
    stated_total: tuple[str, str] | None  # (path prefix, dotted path) of a total the provider states, if any
    meaningful_404: str  # a path whose 404, in the provider's own body, means something
    download: str | None = None  # pre-signed downloads (files), if the provider has any
    download_money_column: str | None = None
    # Where the sandbox lists one integration per account (`accounts`), the one the tenant registers.
    account: int | None = None
    # False where the external ids never reach the provider's API (they only tell dbt whose bank
    # credits to match), so sync cannot tell a mistyped one: "not linked" is then `meaningful_404` alone.
    external_ids_sent: bool = True
    # What the provider's own 404 at `meaningful_404` is: for most, an object or account these
    # credentials do not reach (NotLinkedError). Hotmart documents 404 only for a URL it does not
    # serve (a wrong base URL or a changed API): refused, not "not linked"; its "not linked" is a
    # 403 in its body (`not_linked_403`).
    meaningful_404_error: type[ProviderError] = NotLinkedError
    meaningful_404_message: str = "not (found|reachable)"
    not_linked_403: str | None = None  # a path whose 403, in the provider's own body, means not linked

    def entry(self, tenant: dict[str, Any]) -> dict[str, Any]:
        """The tenant's credentials and external ids for this provider, as the sandbox lists them."""
        listed = tenant[self.name]
        return listed if self.account is None else listed["accounts"][self.account]

    record_nth: int = 3  # which record of one listing answer the record faults aim at (0: the answer is one record)
    # A step run after the integration is registered and before each sync, for a provider whose sync
    # can only fetch what the warehouse already knows (no list endpoint: ids made known by webhooks):
    # (warehouse url, integration id, sandbox, case). None: nothing to prepare.
    prepare: Callable[[str, int, Sandbox, ProviderCase], None] | None = None

    def at(self, template: str, external_ids: dict[str, list[str]]) -> str:
        first = next(iter(external_ids.values()))[0]
        return template.format(id=first)


def land_webhooks(url: str, integration_id: int, sandbox: Sandbox, case: ProviderCase) -> None:
    """A preparation: land, as the webhook sink would, every notification the sandbox's platform sent
    the case's account (`SandboxPlatform.webhooks`), each received when it was sent."""
    renderer = platform(case.name).webhooks
    assert renderer is not None, f"{case.name} sends no webhooks in the sandbox"
    now = datetime.now(UTC)
    with psycopg.connect(url) as conn:
        for delivery in renderer(sandbox.world.facts[case.name], integration_entry(case, sandbox)["name"], now=now):
            land(
                conn,
                integration_id,
                delivery.headers,
                delivery.query,
                delivery.body,
                keyring=KEYRING,
                received_at=delivery.sent_at or now,
            )


CASES = (
    ProviderCase(
        name="ifood",
        listing="/financial/v3.0/merchants/{id}/sales",
        money_field="saleGrossValue.bag",
        required_field="currentStatus",
        record_named=rf"record sales\[3\], id '{UUID}'",
        stated_total=("/financial/v3.0/merchants/{id}/sales", "total"),
        meaningful_404="/financial/v3.0/merchants/{id}/anticipations",  # 404 = no anticipation plan
        download="/_sandbox/files",
        download_money_column="valor",
    ),
    ProviderCase(
        name="pluggy",
        listing="/v2/transactions",
        money_field="amount",
        required_field="date",
        record_named=rf"record results\[3\], id '{UUID}'",
        stated_total=("/accounts", "total"),
        meaningful_404="/items/{id}",  # 404 = the item is gone
    ),
    ProviderCase(
        name="asaas",
        listing="/v3/payments",
        money_field="netValue",  # `value` is also in each payment's discount, fine and interest
        required_field="billingType",  # `status` is also in its split, refunds and chargeback
        record_named=r"record data\[3\], id 'pay_\w+'",
        stated_total=("/v3/payments", "totalCount"),
        meaningful_404="/v3/myAccount/commercialInfo/",  # 404 = the key's account is not reachable
        account=0,
    ),
    ProviderCase(
        name="mercadopago",
        listing="/v1/payments/search",
        money_field="transaction_amount",
        required_field="date_last_updated",
        record_named=r"record results\[3\], id \d+",
        stated_total=("/v1/payments/search", "paging.total"),  # 999999 > the offset cap: split, halves fall short
        meaningful_404="/users/me",  # 404 = the token's account is gone
        account=0,
    ),
    ProviderCase(
        name="stripe",
        listing="/v1/charges",
        money_field="amount",
        required_field="created",
        record_named=r"record data\[3\], id 'ch_\w+'",
        # Stripe's lists state no totals; a payout's amount is what its `?payout=` transactions must
        # net to. The first payout listed (automatic, as every sandbox payout) gets the wrong amount.
        stated_total=("/v1/payouts", "amount"),
        # Stripe's 404 `resource_missing` is an object this key cannot reach ("No such payout"); the
        # payout documents (CNPJs) are never sent and the client sends no `Stripe-Account`, so this is
        # the only "not linked" Stripe has, and the mistyped-external-id test does not apply.
        meaningful_404="/v1/balance_transactions",
        account=0,
        external_ids_sent=False,
    ),
    # PushinPay has no list endpoint: its sync re-reads, one GET each, the ids its webhooks made
    # known (landed first), so every call is a "listing" of one record, the answer itself, named by
    # its path; there is no stated total; any transaction's 404 in its own body means the token
    # does not reach it. Its external ids (payout documents) never reach the API.
    ProviderCase(
        name="pushinpay",
        listing="/api/transactions/",
        money_field="value",
        required_field="status",
        record_named=rf"GET \S*/api/transactions/{UUID} answered 200 with",
        stated_total=None,
        meaningful_404="/api/transactions/",
        account=0,
        record_nth=0,
        prepare=land_webhooks,
    ),
    # Hotmart: one pass per status over three listings; the sales history is the first of each
    # status and the one with the most to check. Its items have no top-level id (the transaction is
    # in `purchase`), so an error names the record by its index alone. Its 404 is a path it does not
    # serve; a 403 in its body is a credential that may not read the account. The payout documents
    # never reach its API.
    ProviderCase(
        name="hotmart",
        listing="/payments/api/v1/sales/history",
        money_field="purchase.price.value",
        required_field="product",
        record_named=r"record items\[3\]",
        stated_total=("/payments/api/v1/sales/history", "page_info.total_results"),
        meaningful_404="/payments/api/v1/sales/history",
        meaningful_404_error=RequestRejectedError,
        meaningful_404_message=r"^hotmart: GET /payments/api/v1/sales/history answered 404: not_found",
        not_linked_403="/payments/api/v1/sales/commissions",
        account=0,
        external_ids_sent=False,
    ),
    # Kiwify: the sales created in the interval (numbered pages against `count`), then the payouts.
    # A 404 in its JSON on the sales list is an account these credentials do not reach.
    ProviderCase(
        name="kiwify",
        listing="/v1/sales",
        money_field="payment.charge_amount",
        required_field="payment_method",
        record_named=rf"record data\[3\], id '{UUID}'",
        stated_total=("/v1/sales", "pagination.count"),
        meaningful_404="/v1/sales",
        account=0,
        external_ids_sent=False,
    ),
)


@dataclass(frozen=True)
class Scenario:
    """Faults to queue (path prefix → sandbox responses) and what the sync must then do.

    `expect` None means absorbed: raw ends identical to a clean run. Otherwise the sync raises
    exactly that class, with a message matching `message`.
    """

    faults: list[tuple[str, list[dict[str, Any]]]]
    expect: type[ProviderError] | None = None
    message: str = ""
    waits: tuple[float, ...] = ()  # waits the transport must have asked for (Retry-After)
    timeout_s: float | None = None  # a read timeout for this scenario's sync


def _many(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [response] * (RETRIES + 1)


def _on(path: str, *responses: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    return [(path, list(responses))]


FaultClass = Callable[[ProviderCase], Scenario | None]

FAULT_CLASSES: dict[str, FaultClass] = {
    # --- absorbed by the transport's retries: the sync ends as if nothing happened
    "server_error_once": lambda c: Scenario(_on(c.listing, {"status": 503})),
    "rate_limited_once": lambda c: Scenario(
        _on(c.listing, {"status": 429, "headers": {"Retry-After": "7"}}), waits=(7.0,)
    ),
    "timeout_once": lambda c: Scenario(_on(c.listing, {"delay_s": 2 * TIMEOUT_S}), timeout_s=TIMEOUT_S),
    "connection_dropped_once": lambda c: Scenario(_on(c.listing, {"truncate": "connection"})),
    "expired_link_once": lambda c: Scenario(_on(c.download, {"advance_clock_s": 3600})) if c.download else None,
    # --- beyond the retries: a retryable failure, nothing landed
    "server_errors_beyond_retries": lambda c: Scenario(
        _on(c.listing, *_many({"status": 503})), ProviderError, rf"^{c.name}: GET .* answered 503 after 3 attempts"
    ),
    "timeouts_beyond_retries": lambda c: Scenario(
        _on(c.listing, *_many({"delay_s": 2 * TIMEOUT_S})),
        ProviderError,
        rf"^{c.name}: GET .* timed out on all 3 attempts",
        timeout_s=TIMEOUT_S,
    ),
    "rate_limited_beyond_retries": lambda c: Scenario(
        _on(c.listing, *_many({"status": 429, "headers": {"Retry-After": "1"}})),
        RateLimitedError,
        rf"^{c.name}: GET .* answered 429",
    ),
    "expired_link_every_time": lambda c: (
        Scenario(
            _on(c.download, *[{"advance_clock_s": 3600}] * REPORT_LINK_ATTEMPTS),
            ProviderError,
            rf"^{c.name}: the reconciliation file .* refused \(403",
        )
        if c.download
        else None
    ),
    # --- refused as invalid: waiting will not change it, so no retries
    "bad_request_400": lambda c: Scenario(
        _on(c.listing, {"status": 400}), RequestRejectedError, rf"^{c.name}: GET .* answered 400: "
    ),
    # --- not the documented shape: fail loudly, whatever the status said
    "empty_object_200": lambda c: Scenario(
        _on(c.listing, {"status": 200, "body": {}}), ResponseShapeError, "missing required field"
    ),
    "message_object_200": lambda c: Scenario(
        _on(c.listing, {"status": 200, "body": {"message": "OK"}}), ResponseShapeError, "missing required field"
    ),
    "list_instead_of_object_200": lambda c: Scenario(
        _on(c.listing, {"status": 200, "body": []}), ResponseShapeError, "not the documented shape|list of 0"
    ),
    "html_page_200": lambda c: Scenario(
        _on(c.listing, {"status": 200, "raw_body": HTML, "content_type": "text/html"}),
        ResponseShapeError,
        "a text/html body instead of JSON",
    ),
    "html_404_where_404_means_something": lambda c: Scenario(
        _on(c.meaningful_404, {"status": 404, "raw_body": HTML, "content_type": "text/html"}),
        ResponseShapeError,
        r"answered 404 with a body that is not [\w ]+'s error envelope, so not its documented 404 \(text/html",
    ),
    "truncated_json": lambda c: Scenario(_on(c.listing, {"truncate": "body"}), ResponseShapeError, "truncated JSON"),
    "malformed_amount_in_a_record": lambda c: Scenario(
        _on(c.listing, {"corrupt": {"path": c.money_field, "value": "131,8,9", "nth": c.record_nth}}),
        ResponseShapeError,
        c.record_named,
    ),
    "missing_required_field_in_a_record": lambda c: Scenario(
        _on(c.listing, {"corrupt": {"path": c.required_field, "delete": True, "nth": c.record_nth}}),
        ResponseShapeError,
        rf"missing required field `{c.required_field}`.*{c.record_named}|{c.record_named}.*missing required field",
    ),
    "malformed_amount_in_a_file": lambda c: (
        Scenario(
            _on(c.download, {"corrupt": {"path": c.download_money_column, "value": "131,8,9", "nth": 4}}),
            ResponseShapeError,
            rf"line 6, column {c.download_money_column}: '131,8,9' is not a number",
        )
        if c.download
        else None
    ),
    "truncated_file": lambda c: (
        Scenario(_on(c.download, {"truncate": "body"}), ResponseShapeError, "not a complete gzip file")
        if c.download
        else None
    ),
    # --- the provider's own totals do not add up
    "stated_total_not_fetched": lambda c: (
        Scenario(
            _on(c.stated_total[0], {"corrupt": {"path": c.stated_total[1], "value": 999_999}}),
            IncompleteExtractionError,
            "999999",
        )
        if c.stated_total
        else None
    ),
    # --- the provider's own 404 where it is not a documented "nothing here": the id is not reachable
    "provider_404_where_404_means_something": lambda c: Scenario(
        _on(c.meaningful_404, {"status": 404}), c.meaningful_404_error, c.meaningful_404_message
    ),
    "provider_403_where_403_means_not_linked": lambda c: (
        Scenario(_on(c.not_linked_403, {"status": 403}), NotLinkedError, "may not read this account")
        if c.not_linked_403
        else None
    ),
}

TABLE = [
    pytest.param(case, name, id=f"{case.name}-{name}")
    for case in CASES
    for name, fault_class in FAULT_CLASSES.items()
    if fault_class(case) is not None
]


# ------------------------------------------------------------------------------ fixtures


@dataclass
class Sandbox:
    base_url: str
    world: World
    tenant: dict[str, Any]
    urls: dict[str, str]

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, timeout=10)


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    world = World(CONFIG)
    options = ServerOptions().with_platform("ifood", ondemand_delay_s=0).with_rate_limit(None)
    base_url, stop = start_in_thread(world, port=0, options=options)
    creds = world.credentials(base_url)
    yield Sandbox(base_url, world, creds["tenants"][0], creds["base_urls"])
    stop()


@pytest.fixture(autouse=True)
def no_faults(sandbox: Sandbox) -> Iterator[None]:
    with sandbox.http() as http:
        http.delete("/_sandbox/faults")
    yield
    with sandbox.http() as http:
        http.delete("/_sandbox/faults")


KEYRING = Keyring.parse(new_key_spec("faults"))


class Waits(list[float]):
    """The transport's sleep: records every wait, spends none."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def integration_entry(case: ProviderCase, sandbox: Sandbox) -> dict[str, Any]:
    """The tenant's credentials and ids for `case`: the whole entry, or its `accounts[case.account]`."""
    entry = sandbox.tenant[case.name]
    return entry if case.account is None else entry["accounts"][case.account]


def external_ids(case: ProviderCase, sandbox: Sandbox) -> dict[str, list[str]]:
    return {f: list(integration_entry(case, sandbox)[f]) for f in provider_class(case.name).external_id_fields}


def sync(
    url: str,
    case: ProviderCase,
    sandbox: Sandbox,
    *,
    waits: Waits | None = None,
    timeout_s: float | None = None,
    ids: dict[str, list[str]] | None = None,
    secret: str | None = None,
) -> None:
    """Register the tenant's integration for `case` and run one real sync over the world's days."""
    cls = provider_class(case.name)
    credentials = {f: integration_entry(case, sandbox)[f] for f in cls.credential_fields}
    if secret is not None:
        credentials[cls.secret_fields[0]] = secret  # the provider's (first) secret: client_secret, secret_key, …
    with psycopg.connect(url) as conn:
        integration = integrations.add(
            conn,
            KEYRING,
            tenant_id=sandbox.tenant["tenant_id"],
            provider=case.name,
            credentials=credentials,
            external_ids=ids or external_ids(case, sandbox),
            base_url=sandbox.urls[case.name],
            webhook_secret=integration_entry(case, sandbox).get("webhook_secret"),
        )
    if case.prepare is not None:
        case.prepare(url, integration.integration_id, sandbox, case)
    options = TransportOptions(
        retry=RetryPolicy(max_retries=RETRIES), sleep=waits if waits is not None else Waits(), timeout=timeout_s
    )
    run_sync(url, integration.integration_id, INTERVAL, keyring=KEYRING, transport=options)


def raw_rows(url: str) -> dict[str, set[tuple[str, str, str, str]]]:
    """Every raw row by table: (tenant, external id, key, payload hash)."""
    with psycopg.connect(url) as conn:
        return {
            table: set(conn.execute(f"select tenant_id, external_id, {key}, payload_hash from raw.{table}").fetchall())
            for table, key in RAW_TABLES.items()
        }


def synced_rows(url: str) -> dict[str, int]:
    """How many raw rows of each table a sync landed (a preparation's, e.g. webhooks, have no sync run)."""
    with psycopg.connect(url) as conn:
        return {
            table: conn.execute(f"select count(*) from raw.{table} where sync_run_id is not null").fetchone()[0]
            for table in RAW_TABLES
        }


def sync_runs(url: str) -> list[tuple[str, str | None]]:
    with psycopg.connect(url) as conn:
        return conn.execute("select status, error from ops.sync_runs order by sync_run_id").fetchall()


@pytest.fixture(scope="module")
def clean_rows(sandbox: Sandbox, clean_module_warehouse: str) -> dict[str, dict[str, set]]:
    """Per provider, the raw rows a fault-free sync lands, by table (its own tables; the others stay empty).

    Providers write disjoint raw tables, so one clean warehouse holds every provider's clean run.
    """
    for case in CASES:
        sync(clean_module_warehouse, case, sandbox)
    landed = raw_rows(clean_module_warehouse)
    return {
        case.name: {
            table: rows if table in provider_class(case.name).landing_tables() else set()
            for table, rows in landed.items()
        }
        for case in CASES
    }


# --------------------------------------------------------------------------------- tests


def test_every_provider_is_in_the_fault_table() -> None:
    assert {case.name for case in CASES} == set(PROVIDERS), "a new provider needs its ProviderCase here"


def test_a_clean_run_lands_every_raw_table_of_the_provider(clean_rows: dict[str, dict[str, set]]) -> None:
    for case in CASES:
        rows = clean_rows[case.name]
        for table in provider_class(case.name).raw_tables:
            assert rows[table], f"{case.name}: a clean sync of the sandbox world lands rows in {table}"


@pytest.mark.parametrize(("case", "fault_class"), TABLE)
def test_fault(
    case: ProviderCase, fault_class: str, sandbox: Sandbox, clean_rows: dict[str, dict[str, set]], clean_warehouse: str
) -> None:
    expected_rows = clean_rows[case.name]
    scenario = FAULT_CLASSES[fault_class](case)
    assert scenario is not None
    ids = external_ids(case, sandbox)
    with sandbox.http() as http:
        for path, responses in scenario.faults:
            spec = {"provider": case.name, "path_prefix": case.at(path, ids), "responses": responses}
            reply = http.post("/_sandbox/faults", json=spec)
            assert reply.status_code == 201, reply.text
    waits = Waits()

    if scenario.expect is None:
        sync(clean_warehouse, case, sandbox, waits=waits, timeout_s=scenario.timeout_s)
        assert raw_rows(clean_warehouse) == expected_rows, "an absorbed fault must leave what a clean run leaves"
        assert [status for status, _ in sync_runs(clean_warehouse)] == ["success"]
        for wait in scenario.waits:
            assert wait in waits, f"the transport should have waited {wait}s as told; it waited {waits}"
    else:
        with pytest.raises(ProviderError) as raised:
            sync(clean_warehouse, case, sandbox, waits=waits, timeout_s=scenario.timeout_s)
        error = raised.value
        assert type(error) is scenario.expect, f"{type(error).__name__}: {error}"
        assert re.search(scenario.message, str(error)), str(error)
        assert case.name in str(error)
        assert not any(synced_rows(clean_warehouse).values()), "nothing of a failed sync may land"
        [(status, recorded)] = sync_runs(clean_warehouse)
        assert status == "failed" and recorded.startswith(f"{scenario.expect.__name__}: ")

    with sandbox.http() as http:
        assert http.get("/_sandbox/faults").json() == [], "every queued fault must have been met"


@pytest.mark.parametrize("case", [c for c in CASES if c.external_ids_sent], ids=lambda c: c.name)
def test_a_mistyped_external_id_is_not_linked_naming_the_id(
    case: ProviderCase, sandbox: Sandbox, clean_warehouse: str
) -> None:
    ids = external_ids(case, sandbox)
    field_name, values = next(iter(ids.items()))
    wrong = values[0][:-1] + ("0" if values[0][-1] != "0" else "1")
    with pytest.raises(NotLinkedError) as raised:
        sync(clean_warehouse, case, sandbox, ids={**ids, field_name: [wrong, *values[1:]]})
    assert wrong in str(raised.value) and not raised.value.retryable
    assert not any(synced_rows(clean_warehouse).values())
    assert sync_runs(clean_warehouse)[0][0] == "failed"


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_wrong_credentials_are_an_authentication_error(
    case: ProviderCase, sandbox: Sandbox, clean_warehouse: str
) -> None:
    with pytest.raises(AuthenticationError) as raised:
        sync(clean_warehouse, case, sandbox, secret="not-the-secret")
    assert f"{case.name} refused the credentials (401)" in str(raised.value) and not raised.value.retryable
    assert not any(synced_rows(clean_warehouse).values())


PLUGGY = next(c for c in CASES if c.name == "pluggy")


@pytest.mark.parametrize(
    ("status", "expected", "retryable"),
    [
        ("LOGIN_ERROR", NeedsUserActionError, False),
        ("WAITING_USER_INPUT", NeedsUserActionError, False),
        ("WAITING_USER_ACTION", NeedsUserActionError, False),
        ("OUTDATED", SourceOutdatedError, True),
    ],
)
def test_a_pluggy_item_whose_bank_connection_is_broken_lands_nothing(
    status: str, expected: type[ProviderError], retryable: bool, sandbox: Sandbox, clean_warehouse: str
) -> None:
    """Pluggy still serves an item's old transactions when its refresh failed; landing them as a
    success would make the freshness mart call stale bank data current."""
    ids = external_ids(PLUGGY, sandbox)
    with sandbox.http() as http:
        spec = {
            "provider": "pluggy",
            "path_prefix": PLUGGY.at("/items/{id}", ids),
            "responses": [{"corrupt": {"path": "status", "value": status}}],
        }
        assert http.post("/_sandbox/faults", json=spec).status_code == 201
    with pytest.raises(ProviderError) as raised:
        sync(clean_warehouse, PLUGGY, sandbox)
    assert type(raised.value) is expected and raised.value.retryable is retryable
    assert f"is {status}" in str(raised.value) and ids["item_ids"][0] in str(raised.value)
    assert all(not rows for rows in raw_rows(clean_warehouse).values())
    [(run_status, recorded)] = sync_runs(clean_warehouse)
    assert run_status == "failed" and recorded.startswith(f"{expected.__name__}: ")


@pytest.mark.parametrize("status", ["UPDATING", "MERGING"])
def test_a_pluggy_item_mid_refresh_serves_its_last_good_data(
    status: str, sandbox: Sandbox, clean_rows: dict[str, dict[str, set]], clean_warehouse: str
) -> None:
    ids = external_ids(PLUGGY, sandbox)
    with sandbox.http() as http:
        spec = {
            "provider": "pluggy",
            "path_prefix": PLUGGY.at("/items/{id}", ids),
            "responses": [{"corrupt": {"path": "status", "value": status}}],
        }
        assert http.post("/_sandbox/faults", json=spec).status_code == 201
    sync(clean_warehouse, PLUGGY, sandbox)
    assert raw_rows(clean_warehouse) == clean_rows["pluggy"]
