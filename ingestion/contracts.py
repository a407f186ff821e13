"""A tenant's contracts: split rates (control.split_rates) and gateway fee schedules (control.fee_schedules).

Split rates carry, for the sales platforms (merchants of record with co-producers), an optional `coproducer_rate`: the
co-producer's share of (gross − fee − affiliate commission); absent means the dbt var (0).

The marts read these tables at every build (docs/payment-reconciliation-rules.md, "Splits" and
"Fee audit"). People edit them with psql or a BI tool, or through the CLI, which comes here:
`set_split_rate` / `set_fee` add a row valid from a date and close the open row it supersedes,
`load` replaces a tenant's contracts with a file's (the shape `sandbox contracts --json` prints),
so loading the same file twice changes nothing. A row that would overlap another in time for
the same key is refused by the database's exclusion constraint and reported in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import psycopg

from ingestion.errors import UserError

METHODS = ("pix", "card", "boleto")


@dataclass(frozen=True)
class SplitRate:
    tenant_id: str
    product_id: str | None
    platform_fee_rate: Decimal
    affiliate_rate: Decimal
    valid_from: date
    valid_to: date | None
    note: str | None = None
    # Sales platforms: a co-producer's share of (gross − fee − affiliate commission); None means
    # the dbt var coproducer_rate (docs/payment-reconciliation-rules.md, "Commissions by role").
    coproducer_rate: Decimal | None = None


@dataclass(frozen=True)
class FeeSchedule:
    tenant_id: str
    platform: str
    method: str
    installments_from: int
    installments_to: int
    percent_fee: Decimal
    fixed_fee: Decimal
    release_days: int | None
    valid_from: date
    valid_to: date | None
    note: str | None = None


def parse_decimal(text: Any, what: str, *, low: Decimal, high: Decimal | None = None, places: int = 6) -> Decimal:
    """An exact decimal in [low, high] with at most `places` decimals; one sentence when not."""
    try:
        value = Decimal(str(text).replace(",", "."))
    except InvalidOperation:
        raise UserError(f"{what} must be a number like 0.04; got {text!r}.") from None
    if not value.is_finite() or value < low or (high is not None and value > high):
        bound = f"between {low} and {high}" if high is not None else f"at least {low}"
        raise UserError(f"{what} must be {bound}; got {text!r}.")
    if value != value.quantize(Decimal(1).scaleb(-places)):
        raise UserError(f"{what} has more than {places} decimals; got {text!r}.")
    return value


def parse_date(text: Any, what: str) -> date:
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        raise UserError(f"{what} must be a date like 2026-10-01; got {text!r}.") from None


def parse_installments(text: str) -> tuple[int, int]:
    """`3` → (3, 3); `2-6` → (2, 6)."""
    low, _, high = text.partition("-")
    try:
        first, last = int(low), int(high or low)
    except ValueError:
        raise UserError(f"--installments must be a count like 1 or a band like 2-6; got {text!r}.") from None
    if not 1 <= first <= last <= 24:
        raise UserError(f"--installments must lie within 1-24, low before high; got {text!r}.")
    return first, last


def _check_validity(valid_from: date, valid_to: date | None) -> None:
    if valid_to is not None and valid_to < valid_from:
        raise UserError(f"The validity ends ({valid_to}) before it starts ({valid_from}).")


def _overlap_message(error: psycopg.errors.ExclusionViolation, what: str) -> UserError:
    detail = (error.diag.message_detail or "").replace("\n", " ")
    return UserError(f"This {what} overlaps an existing row for the same key in time; end that row first. ({detail})")


def set_split_rate(conn: psycopg.Connection, rate: SplitRate) -> None:
    """Add a split-rate row; the open row it supersedes (same tenant and product) ends the day before."""
    _check_validity(rate.valid_from, rate.valid_to)
    with conn.transaction():
        conn.execute(
            """
            update control.split_rates set valid_to = %(end)s, updated_by = current_user, updated_at = now()
            where tenant_id = %(tenant)s and product_id is not distinct from %(product)s
              and valid_to is null and valid_from < %(start)s
            """,
            {
                "end": rate.valid_from - timedelta(days=1),
                "tenant": rate.tenant_id,
                "product": rate.product_id,
                "start": rate.valid_from,
            },
        )
        try:
            _insert_split_rates(conn, [rate])
        except psycopg.errors.ExclusionViolation as error:
            raise _overlap_message(error, "split rate") from None


def set_fee(conn: psycopg.Connection, fee: FeeSchedule) -> None:
    """Add a fee-schedule row; the open row for the same band it supersedes ends the day before."""
    _check_validity(fee.valid_from, fee.valid_to)
    if fee.method not in METHODS:
        raise UserError(f"--method must be one of {', '.join(METHODS)}; got {fee.method!r}.")
    with conn.transaction():
        conn.execute(
            """
            update control.fee_schedules set valid_to = %(end)s, updated_by = current_user, updated_at = now()
            where tenant_id = %(tenant)s and platform = %(platform)s and method = %(method)s
              and installments_from = %(low)s and installments_to = %(high)s
              and valid_to is null and valid_from < %(start)s
            """,
            {
                "end": fee.valid_from - timedelta(days=1),
                "tenant": fee.tenant_id,
                "platform": fee.platform,
                "method": fee.method,
                "low": fee.installments_from,
                "high": fee.installments_to,
                "start": fee.valid_from,
            },
        )
        try:
            _insert_fees(conn, [fee])
        except psycopg.errors.ExclusionViolation as error:
            raise _overlap_message(error, "fee schedule") from None


def _insert_split_rates(conn: psycopg.Connection, rates: Iterable[SplitRate]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into control.split_rates
                (tenant_id, product_id, platform_fee_rate, affiliate_rate, valid_from, valid_to, note,
                 coproducer_rate)
            values (%s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    r.tenant_id,
                    r.product_id,
                    r.platform_fee_rate,
                    r.affiliate_rate,
                    r.valid_from,
                    r.valid_to,
                    r.note,
                    r.coproducer_rate,
                )
                for r in rates
            ],
        )


def _insert_fees(conn: psycopg.Connection, fees: Iterable[FeeSchedule]) -> None:
    with conn.cursor() as cur:
        cur.executemany(
            """
            insert into control.fee_schedules
                (tenant_id, platform, method, installments_from, installments_to, percent_fee, fixed_fee,
                 release_days, valid_from, valid_to, note)
            values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
            """,
            [
                (
                    f.tenant_id,
                    f.platform,
                    f.method,
                    f.installments_from,
                    f.installments_to,
                    f.percent_fee,
                    f.fixed_fee,
                    f.release_days,
                    f.valid_from,
                    f.valid_to,
                    f.note,
                )
                for f in fees
            ],
        )


def split_rate_from_row(row: Mapping[str, Any], where: str) -> SplitRate:
    return SplitRate(
        tenant_id=_text(row, "tenant_id", where),
        product_id=row.get("product_id") or None,
        platform_fee_rate=parse_decimal(
            row.get("platform_fee_rate"), f"{where}: platform_fee_rate", low=Decimal(0), high=Decimal(1)
        ),
        affiliate_rate=parse_decimal(
            row.get("affiliate_rate"), f"{where}: affiliate_rate", low=Decimal(0), high=Decimal(1)
        ),
        valid_from=parse_date(row.get("valid_from"), f"{where}: valid_from"),
        valid_to=parse_date(row["valid_to"], f"{where}: valid_to") if row.get("valid_to") else None,
        note=row.get("note"),
        coproducer_rate=parse_decimal(
            row["coproducer_rate"], f"{where}: coproducer_rate", low=Decimal(0), high=Decimal(1)
        )
        if row.get("coproducer_rate") is not None
        else None,
    )


def fee_from_row(row: Mapping[str, Any], where: str) -> FeeSchedule:
    method = _text(row, "method", where)
    if method not in METHODS:
        raise UserError(f"{where}: method must be one of {', '.join(METHODS)}; got {method!r}.")
    low, high = row.get("installments_from"), row.get("installments_to")
    if not isinstance(low, int) or not isinstance(high, int) or not 1 <= low <= high <= 24:
        raise UserError(f"{where}: installments_from/installments_to must be whole numbers within 1-24, low first.")
    release = row.get("release_days")
    if release is not None and (not isinstance(release, int) or release < 0):
        raise UserError(f"{where}: release_days must be a whole number of business days or null.")
    return FeeSchedule(
        tenant_id=_text(row, "tenant_id", where),
        platform=_text(row, "platform", where),
        method=method,
        installments_from=low,
        installments_to=high,
        percent_fee=parse_decimal(
            row.get("percent_fee"), f"{where}: percent_fee", low=Decimal(0), high=Decimal(100), places=4
        ),
        fixed_fee=parse_decimal(row.get("fixed_fee"), f"{where}: fixed_fee", low=Decimal(0), places=2),
        release_days=release,
        valid_from=parse_date(row.get("valid_from"), f"{where}: valid_from"),
        valid_to=parse_date(row["valid_to"], f"{where}: valid_to") if row.get("valid_to") else None,
        note=row.get("note"),
    )


def _text(row: Mapping[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if not isinstance(value, str) or not value.strip():
        raise UserError(f"{where}: {key} must be a non-empty text; got {value!r}.")
    return value


def load(conn: psycopg.Connection, contracts: Mapping[str, Any]) -> dict[str, int]:
    """Replace the contracts of every tenant the document names with the document's rows.

    Every row is checked before anything is written; the replacement is one transaction, so a
    bad file changes nothing and loading the same file twice leaves the tables as they were.
    """
    if not isinstance(contracts, Mapping):
        raise UserError("The contracts file must be a JSON object with split_rates and/or fee_schedules lists.")
    unknown = set(contracts) - {"split_rates", "fee_schedules"}
    if unknown:
        raise UserError(f"The contracts file has unknown keys: {', '.join(sorted(unknown))}.")
    rates = [split_rate_from_row(r, f"split_rates[{i}]") for i, r in enumerate(contracts.get("split_rates") or [])]
    fees = [fee_from_row(r, f"fee_schedules[{i}]") for i, r in enumerate(contracts.get("fee_schedules") or [])]
    tenants = sorted({r.tenant_id for r in rates} | {f.tenant_id for f in fees})
    with conn.transaction():
        if rates:
            conn.execute(
                "delete from control.split_rates where tenant_id = any(%s)", [sorted({r.tenant_id for r in rates})]
            )
        if fees:
            conn.execute(
                "delete from control.fee_schedules where tenant_id = any(%s)", [sorted({f.tenant_id for f in fees})]
            )
        try:
            _insert_split_rates(conn, rates)
            _insert_fees(conn, fees)
        except psycopg.errors.ExclusionViolation as error:
            raise _overlap_message(error, "contract row") from None
    return {"tenants": len(tenants), "split_rates": len(rates), "fee_schedules": len(fees)}


def list_split_rates(conn: psycopg.Connection, tenant_id: str | None = None) -> list[SplitRate]:
    rows = conn.execute(
        """
        select tenant_id, product_id, platform_fee_rate, affiliate_rate, valid_from, valid_to, note,
               coproducer_rate
        from control.split_rates where %(t)s::text is null or tenant_id = %(t)s
        order by tenant_id, product_id nulls first, valid_from
        """,
        {"t": tenant_id},
    ).fetchall()
    return [SplitRate(*row) for row in rows]


def list_fees(conn: psycopg.Connection, tenant_id: str | None = None) -> list[FeeSchedule]:
    rows = conn.execute(
        """
        select tenant_id, platform, method, installments_from, installments_to, percent_fee, fixed_fee,
               release_days, valid_from, valid_to, note
        from control.fee_schedules where %(t)s::text is null or tenant_id = %(t)s
        order by tenant_id, platform, method, installments_from, valid_from
        """,
        {"t": tenant_id},
    ).fetchall()
    return [FeeSchedule(*row) for row in rows]
