"""Per-tenant reconciliation tolerances (control.tolerances), read by dbt at every build.

A finance team may edit the table directly (psql, a BI tool); these functions are the CLI's
way in and validate what a person typed before it can change a reconciliation.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

import psycopg

from ingestion.errors import UserError


@dataclass(frozen=True)
class Tolerance:
    tenant_id: str
    value_tolerance: Decimal | None
    grace_days: int | None
    missing_from_conciliation_days: int | None
    note: str | None
    fee_tolerance: Decimal | None = None
    split_tolerance: Decimal | None = None


def parse_money(text: str, option: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise UserError(f"{option} must be an amount in reais like 0.10; got {text!r}.") from None
    if not value.is_finite() or value < 0 or value != value.quantize(Decimal("0.01")):
        raise UserError(f"{option} must be a non-negative amount with at most two decimals; got {text!r}.")
    return value


def set_tolerance(
    conn: psycopg.Connection,
    tenant_id: str,
    *,
    value_tolerance: Decimal | None,
    grace_days: int | None,
    missing_from_conciliation_days: int | None = None,
    note: str | None = None,
    fee_tolerance: Decimal | None = None,
    split_tolerance: Decimal | None = None,
) -> Tolerance:
    """Upsert a tenant's overrides; a None leaves that column to the project default."""
    if not tenant_id.strip():
        raise UserError("The tenant id is empty; pass --tenant with a non-empty id.")
    if grace_days is not None and grace_days < 0:
        raise UserError(f"--grace-days must be 0 or more; got {grace_days}.")
    if missing_from_conciliation_days is not None and missing_from_conciliation_days < 0:
        raise UserError(f"--missing-days must be 0 or more; got {missing_from_conciliation_days}.")
    conn.execute(
        """
        insert into control.tolerances
            (tenant_id, value_tolerance, grace_days, missing_from_conciliation_days, note,
             fee_tolerance, split_tolerance)
        values (%s, %s, %s, %s, %s, %s, %s)
        on conflict (tenant_id) do update set
            value_tolerance = excluded.value_tolerance, grace_days = excluded.grace_days,
            missing_from_conciliation_days = excluded.missing_from_conciliation_days,
            fee_tolerance = excluded.fee_tolerance, split_tolerance = excluded.split_tolerance,
            note = excluded.note, updated_by = current_user, updated_at = now()
        """,
        (tenant_id, value_tolerance, grace_days, missing_from_conciliation_days, note, fee_tolerance, split_tolerance),
    )
    conn.commit()
    return Tolerance(
        tenant_id, value_tolerance, grace_days, missing_from_conciliation_days, note, fee_tolerance, split_tolerance
    )


def list_tolerances(conn: psycopg.Connection) -> list[Tolerance]:
    rows = conn.execute(
        "select tenant_id, value_tolerance, grace_days, missing_from_conciliation_days, note,"
        " fee_tolerance, split_tolerance from control.tolerances order by tenant_id"
    ).fetchall()
    return [Tolerance(*row) for row in rows]


def reset_tolerance(conn: psycopg.Connection, tenant_id: str) -> bool:
    deleted = conn.execute("delete from control.tolerances where tenant_id = %s", (tenant_id,)).rowcount
    conn.commit()
    return bool(deleted)
