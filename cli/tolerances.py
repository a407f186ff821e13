"""`conciliador tolerances …`: per-tenant reconciliation tolerances.

Every command turns bad input into one sentence (UserError) rather than a traceback; the
console entry point (`cli/main.py`) prints it and exits 2.
"""

from __future__ import annotations

from typing import Annotated

import typer

from cli.arguments import connect

tolerances_app = typer.Typer(
    help="Per-tenant reconciliation tolerances (control.tolerances); the next dbt build applies them.",
    no_args_is_help=True,
)


@tolerances_app.command("set")
def tolerances_set(
    tenant: Annotated[str, typer.Option(help="Tenant id.")],
    value_tolerance: Annotated[
        str | None, typer.Option(help="R$ difference still counted as paid in full, e.g. 0.05.")
    ] = None,
    grace_days: Annotated[
        int | None, typer.Option(help="Business days after the expected payment date before late.")
    ] = None,
    missing_days: Annotated[
        int | None,
        typer.Option(help="Business days after a sale before it counts as missing from conciliation."),
    ] = None,
    fee_tolerance: Annotated[
        str | None, typer.Option(help="R$ a gateway may charge above the contracted fee, e.g. 0.01.")
    ] = None,
    split_tolerance: Annotated[
        str | None, typer.Option(help="R$ a gateway-executed split may differ from the split model, e.g. 0.01.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept for auditors).")] = None,
) -> None:
    """Override a tenant's tolerances; options left out use the project defaults."""
    from ingestion.tolerances import parse_money, set_tolerance

    money = parse_money(value_tolerance, "--value-tolerance") if value_tolerance is not None else None
    fee = parse_money(fee_tolerance, "--fee-tolerance") if fee_tolerance is not None else None
    split = parse_money(split_tolerance, "--split-tolerance") if split_tolerance is not None else None
    with connect() as conn:
        set_tolerance(
            conn,
            tenant,
            value_tolerance=money,
            grace_days=grace_days,
            missing_from_conciliation_days=missing_days,
            note=note,
            fee_tolerance=fee,
            split_tolerance=split,
        )
    typer.echo(f"Tolerances for {tenant} saved; the next `dbt build` (or DAG run) applies them.")


@tolerances_app.command("list")
def tolerances_list() -> None:
    """Show every tenant override (others use the dbt var defaults)."""
    from ingestion.tolerances import list_tolerances

    with connect() as conn:
        rows = list_tolerances(conn)
    if not rows:
        typer.echo(
            "No overrides: every tenant uses the defaults (R$ 0.10, 3 business days of grace,"
            " missing from conciliation after 2 business days)."
        )
    for row in rows:
        value = "default" if row.value_tolerance is None else f"R$ {row.value_tolerance}"
        grace = "default" if row.grace_days is None else f"{row.grace_days} days"
        missing = (
            "default" if row.missing_from_conciliation_days is None else f"{row.missing_from_conciliation_days} days"
        )
        fee = "default" if row.fee_tolerance is None else f"R$ {row.fee_tolerance}"
        split = "default" if row.split_tolerance is None else f"R$ {row.split_tolerance}"
        typer.echo(
            f"{row.tenant_id:<16} tolerance {value:<10} grace {grace:<8} missing {missing:<8} "
            f"fee {fee:<8} split {split:<8} {row.note or ''}"
        )


@tolerances_app.command("reset")
def tolerances_reset(tenant: Annotated[str, typer.Option(help="Tenant id.")]) -> None:
    """Drop a tenant's overrides so it uses the defaults again."""
    from ingestion.tolerances import reset_tolerance

    with connect() as conn:
        removed = reset_tolerance(conn, tenant)
    typer.echo(f"{tenant} uses the defaults again." if removed else f"{tenant} had no overrides.")
