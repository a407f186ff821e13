"""`conciliador splits …`, `conciliador fees …`, `conciliador contracts load`: a tenant's contracts.

Split rates feed marts.fct_payment_splits and fee schedules marts.fct_fee_audit
(docs/payment-reconciliation-rules.md); the next dbt build applies a change. Bad input is one
sentence (UserError), never a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from cli.arguments import connect

splits_app = typer.Typer(help="Split rates per tenant and product (control.split_rates).", no_args_is_help=True)
fees_app = typer.Typer(help="Contracted gateway fees (control.fee_schedules).", no_args_is_help=True)
contracts_app = typer.Typer(
    help="Load a tenant's whole contract (split rates and fees) from a file.", no_args_is_help=True
)


def _open(value: str | None) -> str:
    return value if value is not None else "open"


@splits_app.command("set")
def splits_set(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day the rates apply (YYYY-MM-DD).")],
    product: Annotated[str | None, typer.Option(help="Product id; leave out for the tenant's default.")] = None,
    platform_fee_rate: Annotated[str, typer.Option(help="Platform fee as a rate of gross, e.g. 0.04.")] = "0.04",
    affiliate_rate: Annotated[str, typer.Option(help="Affiliate commission as a rate of net, e.g. 0.30.")] = "0.30",
    valid_to: Annotated[str | None, typer.Option("--to", help="Last day (inclusive); leave out for open.")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept for auditors).")] = None,
    coproducer_rate: Annotated[
        str | None,
        typer.Option(
            help="Sales platforms (Hotmart, Kiwify): co-producer commission as a rate of "
            "(gross − fee − affiliate commission), e.g. 0.20; leave out for the default (0)."
        ),
    ] = None,
) -> None:
    """Add split rates from a date; the open row they replace ends the day before."""
    from decimal import Decimal

    from ingestion.contracts import SplitRate, parse_date, parse_decimal, set_split_rate

    rate = SplitRate(
        tenant,
        product,
        parse_decimal(platform_fee_rate, "--platform-fee-rate", low=Decimal(0), high=Decimal(1)),
        parse_decimal(affiliate_rate, "--affiliate-rate", low=Decimal(0), high=Decimal(1)),
        parse_date(valid_from, "--from"),
        parse_date(valid_to, "--to") if valid_to else None,
        note,
        parse_decimal(coproducer_rate, "--coproducer-rate", low=Decimal(0), high=Decimal(1))
        if coproducer_rate is not None
        else None,
    )
    with connect() as conn:
        set_split_rate(conn, rate)
    typer.echo(f"Split rates for {tenant} / {product or 'every product'} from {rate.valid_from} saved.")


@splits_app.command("list")
def splits_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None) -> None:
    """Every split-rate row (tenants without rows use 4 % platform fee and 30 % affiliate commission)."""
    from ingestion.contracts import list_split_rates

    with connect() as conn:
        rows = list_split_rates(conn, tenant)
    if not rows:
        typer.echo("No split rates: every payment uses the defaults (platform fee 4 %, affiliate 30 % of net).")
    for r in rows:
        coproducer = f"coproducer {r.coproducer_rate:<9} " if r.coproducer_rate is not None else ""
        typer.echo(
            f"{r.tenant_id:<14} {r.product_id or '(default)':<16} platform {r.platform_fee_rate:<9} "
            f"affiliate {r.affiliate_rate:<9} {coproducer}{r.valid_from} → "
            f"{_open(r.valid_to and r.valid_to.isoformat())}"
        )


@fees_app.command("set")
def fees_set(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    platform: Annotated[str, typer.Option(help="Gateway (registry name, e.g. stripe).")],
    method: Annotated[str, typer.Option(help="pix, card or boleto.")],
    valid_from: Annotated[str, typer.Option("--from", help="First day the fee applies (YYYY-MM-DD).")],
    installments: Annotated[str, typer.Option(help="Installment count or band, e.g. 1 or 2-6.")] = "1",
    percent: Annotated[str, typer.Option(help="Percent of gross, e.g. 3.99.")] = "0",
    fixed: Annotated[str, typer.Option(help="Reais per payment, e.g. 0.39.")] = "0",
    release_days: Annotated[
        int | None, typer.Option(help="Business days to release, for gateways that report no release date.")
    ] = None,
    valid_to: Annotated[str | None, typer.Option("--to", help="Last day (inclusive); leave out for open.")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept for auditors).")] = None,
) -> None:
    """Add a contracted fee from a date; the open row for the same band ends the day before."""
    from decimal import Decimal

    from ingestion.contracts import FeeSchedule, parse_date, parse_decimal, parse_installments, set_fee
    from ingestion.errors import UserError
    from plugins.providers.registry import provider_class

    try:
        provider_class(platform)
    except Exception as error:  # UnknownProviderError names the known ones
        raise UserError(str(error)) from None
    if release_days is not None and release_days < 0:
        raise UserError(f"--release-days must be 0 or more; got {release_days}.")
    low, high = parse_installments(installments)
    fee = FeeSchedule(
        tenant,
        platform,
        method,
        low,
        high,
        parse_decimal(percent, "--percent", low=Decimal(0), high=Decimal(100), places=4),
        parse_decimal(fixed, "--fixed", low=Decimal(0), places=2),
        release_days,
        parse_date(valid_from, "--from"),
        parse_date(valid_to, "--to") if valid_to else None,
        note,
    )
    with connect() as conn:
        set_fee(conn, fee)
    typer.echo(f"Fee for {tenant} / {platform} / {method} {low}-{high}x from {fee.valid_from} saved.")


@fees_app.command("list")
def fees_list(tenant: Annotated[str | None, typer.Option(help="Only this tenant.")] = None) -> None:
    """Every contracted fee row."""
    from ingestion.contracts import list_fees

    with connect() as conn:
        rows = list_fees(conn, tenant)
    if not rows:
        typer.echo("No fee schedules: the fee audit marks every payment no_contract.")
    for f in rows:
        release = f" release D+{f.release_days}" if f.release_days is not None else ""
        typer.echo(
            f"{f.tenant_id:<14} {f.platform:<12} {f.method:<6} {f.installments_from:>2}-{f.installments_to:<2}x "
            f"{f.percent_fee}% + R$ {f.fixed_fee}{release}  {f.valid_from} → {_open(f.valid_to and f.valid_to.isoformat())}"
        )


@contracts_app.command("load")
def contracts_load(
    file: Annotated[
        Path, typer.Option(help="JSON with split_rates and fee_schedules lists (sandbox contracts --json).")
    ],
) -> None:
    """Replace the contracts of every tenant the file names; the same file twice changes nothing."""
    from ingestion.contracts import load
    from ingestion.errors import UserError

    try:
        document = json.loads(file.read_text())
    except OSError as error:
        raise UserError(f"Cannot read {file}: {error.strerror}.") from None
    except json.JSONDecodeError as error:
        raise UserError(f"{file} is not JSON: {error.msg} at line {error.lineno}.") from None
    with connect() as conn:
        counts = load(conn, document)
    typer.echo(
        f"Loaded {counts['split_rates']} split rates and {counts['fee_schedules']} fee rows for {counts['tenants']} tenant(s)."
    )
