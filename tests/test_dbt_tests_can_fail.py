"""Every kept dbt data test can fail: each one, fed the regression it guards, fails, and only on that row.

One warehouse for the module: a handful of iFood orders as raw rows (reconciled, late, short,
unpaid, a sale without events), built once with every data test passing. Then each relation is
corrupted the way a real regression would leave it (a status that skips a rule, a verdict its
credits do not support, a lost order, a duplicated match, ...), one row per test, and a single
`dbt test` run must report every one of those tests failing on exactly one row — so no test
passes by construction and none fails only because of another's corruption. Staging tests are
shown the same way with malformed raw rows. The freshness mart's tests are shown in
tests/test_integration_freshness.py, the calendar guards in tests/test_calendar_coverage.py.
"""

from __future__ import annotations

import json
from datetime import date

import psycopg
import pytest
from dbt_outcomes import dbt_results

from ingestion.dbt_runner import run_dbt
from sandbox.core.calendar import add_business_days

E = date(2026, 10, 5)
AS_OF = date(2026, 10, 30)
MART = "marts.fct_ifood_order_reconciliation"
BATCHES = "intermediate.int_ifood__payout_batches_reconciled"
CREDITS = "intermediate.int_ifood__payout_credits_matched"
ITEMS = "intermediate.int_ifood__payout_items"
IFOOD_CREDITS = "intermediate.int_ifood__bank_credits"

# test → (the regression, as SQL on a built relation; what dbt must report).
CORRUPTIONS: dict[str, tuple[str, str]] = {
    # An unpaid order past its deadline shown as still awaiting: a rule skipped in the mart.
    "assert_order_statuses_follow_the_rules": (
        f"update {MART} set status = 'awaiting_settlement', divergence_reason = 'awaiting_payment' "
        "where order_id = 'o-t-unpaid'",
        "fail",
    ),
    # The reconciled batch's credit arrived after its deadline: the stored verdict no longer follows.
    "assert_payout_batch_verdicts_follow_the_rules": (
        f"update {CREDITS} set posted_date = date '2026-10-20' where tenant_id = 't-ok'",
        "fail",
    ),
    "reconciliation_paid_iff_bank_credit": (
        f"update {MART} set paid_amount = null where order_id = 'o-t-short'",
        "fail",
    ),
    "reconciliation_late_only_after_grace": (
        f"update {MART} set days_late = 2 where order_id = 'o-t-late'",
        "fail",
    ),
    "payout_batch_deadline_not_before_expected": (
        f"update {BATCHES} set deadline_date = expected_payment_date - 1 where tenant_id = 't-unpaid'",
        "fail",
    ),
    "assert_every_order_reconciled_once": (
        f"delete from {MART} where order_id = 'o-t-ok'",
        "fail",
    ),
    "relationships_int_ifood__payout_credits_matched_payout_batch_id__payout_batch_id__ref_int_ifood__payout_batches_aggregated_": (
        f"insert into {CREDITS} select 'ghost', tenant_id, merchant_id, 'tx-ghost', match_rule, item_id, "
        f"credit_amount, posted_date from {CREDITS} where tenant_id = 't-late'",
        "fail",
    ),
    # One bank credit paying two batches: the one-to-one matching broken.
    "unique_combination_of_columns_int_ifood__payout_credits_matched_tenant_id__bank_transaction_id": (
        f"insert into {CREDITS} select * from {CREDITS} where tenant_id = 't-short'",
        "fail",
    ),
    "unique_combination_of_columns_int_ifood__payout_items_tenant_id__item_source__item_id": (
        f"insert into {ITEMS} (tenant_id, merchant_id, item_source, item_id, status) "
        "values ('t-x', 'm-x', 'settlement', 's-1', 'PENDING'), ('t-x', 'm-x', 'settlement', 's-1', 'PENDING')",
        "fail",
    ),
    "unique_combination_of_columns_int_ifood__bank_credits_tenant_id__transaction_id__merchant_id": (
        f"insert into {IFOOD_CREDITS} select * from {IFOOD_CREDITS} where tenant_id = 't-unpaid-neighbour'",
        "fail",
    ),
    # The calendar guards stop the build with a sentence (status error), see test_calendar_coverage.py.
    "assert_business_day_calendar_covers_payout_dates": (
        f"update {BATCHES} set deadline_date = null where tenant_id = 't-ok'",
        "error",
    ),
    "assert_business_day_calendar_covers_sale_dates": (
        f"update {MART} set evidence = evidence || '{{\"conciliation_deadline_date\": null}}'::jsonb "
        "where order_id = 'o-t-sale'",
        "error",
    ),
}


def insert(
    conn: psycopg.Connection, table: str, key_column: str, key: str, tenant: str, external_id: str, payload: dict
) -> None:
    text = json.dumps(payload)
    conn.execute(
        f"insert into raw.{table} (tenant_id, integration_id, external_id, payload_hash, version_key, payload, "
        f"{key_column}) values (%s, 1, %s, md5(%s), gen_random_uuid(), %s, %s)",
        (tenant, external_id, text, text, key),
    )


@pytest.fixture(scope="module")
def built(clean_module_warehouse: str, paid_order) -> str:
    url = clean_module_warehouse
    with psycopg.connect(url) as conn:
        paid_order(conn, "t-ok", credit_amount="40.00", credit_date=E.isoformat())
        paid_order(conn, "t-late", credit_amount="40.00", credit_date=add_business_days(E, 5).isoformat())
        paid_order(conn, "t-short", credit_amount="30.00", credit_date=E.isoformat())
        paid_order(conn, "t-unpaid", credit_amount=None, credit_date=None)
        # An iFood credit of a store with no batch: identified, matched to nothing.
        paid_order(
            conn, "t-unpaid-neighbour", credit_amount="12.00", credit_date=E.isoformat(), expected_date="2026-11-20"
        )
        sale = {
            "id": "o-t-sale",
            "createdAt": "2026-10-01T15:00:00Z",
            "merchant": {"id": "m-t-sale", "documents": [{"type": "CNPJ", "value": "11222333000181"}]},
            "saleGrossValue": {"bag": 25.0},
        }
        insert(conn, "ifood_sales", "merchant_id", "m-t-sale", "t-sale", "o-t-sale", sale)
        conn.commit()
    # Every data test passes on the clean build (run_dbt raises otherwise).
    run_dbt(url, ("build", "--exclude", "resource_type:unit_test"), as_of=AS_OF, quiet=True)
    return url


def test_each_data_test_fails_on_the_regression_it_guards(built: str) -> None:
    with psycopg.connect(built) as conn:
        for corruption, _ in CORRUPTIONS.values():
            conn.execute(corruption)
    results = dbt_results(built, ("test", "--select", *CORRUPTIONS), as_of=AS_OF)
    assert {name: status for name, (status, _) in results.items()} == {
        name: outcome for name, (_, outcome) in CORRUPTIONS.items()
    }
    # Exactly the corrupted row, so no test fails only because of another test's corruption.
    assert {name: failures for name, (status, failures) in results.items() if status == "fail"} == dict.fromkeys(
        (name for name, (_, outcome) in CORRUPTIONS.items() if outcome == "fail"), 1
    )


# Malformed raw rows of one more tenant: each staging money or date the source requires, missing.
BAD_ROWS = [
    ("ifood_sales", "merchant_id", {"id": "o-bad", "createdAt": "2026-10-29T15:00:00Z", "merchant": {"id": "m-bad"}}),
    (
        "ifood_financial_events",
        "merchant_id",
        {"name": "ORDER_PAYMENT", "hasTransferImpact": True, "settlement": {"expectedDate": "2026-11-02"}},
    ),
    (
        "ifood_financial_events",
        "merchant_id",
        {"name": "ORDER_PAYMENT", "hasTransferImpact": True, "amount": {"value": "9.90"}},
    ),
    # A malformed number in the CSV lands as text; staging reads it as null.
    ("ifood_reconciliation_lines", "merchant_id", {"valor": "12,3x", "impacto_no_repasse": "SIM"}),
    ("ifood_settlements", "merchant_id", {"id": "s-bad", "type": "REPASSE", "status": "SUCCEED"}),
    ("ifood_anticipations", "merchant_id", {"type": "REPASSE_ANTECIPADO_DIARIO", "status": "SUCCEED"}),
    ("pluggy_transactions", "account_id", {"id": "tx-bad", "type": "CREDIT", "status": "POSTED", "description": "x"}),
]
STAGING_FAILURES = {
    "not_null_stg_ifood__sales_bag_amount",
    "not_null_stg_ifood__financial_events_amount",
    "financial_event_moving_money_has_expected_date",
    "not_null_stg_ifood__reconciliation_lines_amount",
    "not_null_stg_ifood__settlements_amount",
    "not_null_stg_ifood__settlements_payment_date",
    "not_null_stg_ifood__anticipations_original_payment_amount",
    "not_null_stg_ifood__anticipations_fee_amount",
    "not_null_stg_ifood__anticipations_anticipated_payment_amount",
    "not_null_stg_ifood__anticipations_original_payment_date",
    "not_null_stg_ifood__anticipations_anticipated_payment_date",
    "not_null_stg_pluggy__transactions_amount",
    "not_null_stg_pluggy__transactions_posted_date",
}


def test_staging_tests_catch_malformed_money_and_dates(built: str) -> None:
    """Rows that reach raw without the extraction's checks (a manual insert) fail a staging test each."""
    with psycopg.connect(built) as conn:
        for n, (table, key_column, payload) in enumerate(BAD_ROWS):
            key = "a-bad" if key_column == "account_id" else "m-bad"
            insert(conn, table, key_column, key, "t-bad", f"bad-{n}", payload)
    results = dbt_results(built, ("build", "--select", "staging", "--exclude", "resource_type:unit_test"), as_of=AS_OF)
    failed = {name: failures for name, (status, failures) in results.items() if status in ("fail", "error")}
    assert failed == dict.fromkeys(STAGING_FAILURES, 1)
