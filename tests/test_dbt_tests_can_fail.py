"""Every kept dbt data test can fail: each one, fed the regression it guards, fails, and only on that row.

One warehouse for the module: a handful of iFood orders as raw rows (reconciled, late, short,
unpaid, a sale without events), built once with every data test passing. Then each relation is
corrupted the way a real regression would leave it (a status that skips a rule, a verdict its
credits do not support, a lost order, a duplicated match, ...), one row per test, and a single
`dbt test` run must report every one of those tests failing on exactly one row — so no test
passes by construction and none fails only because of another's corruption. Staging tests are
shown the same way with malformed raw rows. The freshness mart's tests are shown in
tests/test_integration_freshness.py, the calendar guards in tests/test_calendar_coverage.py.

The gateway payment models (docs/payment-reconciliation-rules.md) are shown the same way: one
tenant's Stripe, Mercado Pago, Asaas and PushinPay payments as their raw payloads, each paid out
and credited to the store's bank account, reconcile cleanly; then their relations are corrupted
one row per test too. The over-charge test is a warning (severity warn), so it reports `warn`.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

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
PAYMENTS = "intermediate.int_payments"
PAYOUTS = "intermediate.int_payment_payouts"
PAYOUT_VERDICTS = "intermediate.int_payment_payouts_matched"
PAYMENTS_MART = "marts.fct_payments"
PAYMENT_RECONCILIATION = "marts.fct_payment_reconciliation"
SPLITS = "marts.fct_payment_splits"
FEE_AUDIT = "marts.fct_fee_audit"
FEE_AUDIT_MONTHLY = "marts.fct_fee_audit_monthly"

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
    # --- the gateway payment models ---
    "payment_status_is_canonical": (
        f"update {PAYMENTS} set payment_status = 'settled' where payment_id = '2002'",
        "fail",
    ),
    # A gateway status the status table does not know maps to null.
    "payment_status_is_known": (
        f"update {PAYMENTS} set payment_status = null where payment_id = 'pay_gw_1'",
        "fail",
    ),
    "payouts_unique_per_platform": (
        f"insert into {PAYOUTS} select * from {PAYOUTS} where payout_id = 'po_gw_1'",
        "fail",
    ),
    "payout_has_date": (
        f"update {PAYOUTS} set payout_date = null where payout_id = 'tr_gw_1'",
        "fail",
    ),
    "payout_verdicts_unique": (
        f"insert into {PAYOUT_VERDICTS} select payout_id, tenant_id, platform, integration_id, payout_amount, "
        "payout_date, payout_deadline, payment_count, 3, 'missing', null, null, null, null, null, candidate_credits, "
        f"value_tolerance, grace_days, as_of_date from {PAYOUT_VERDICTS} where payout_id = 'tr_gw_1'",
        "fail",
    ),
    # One bank credit paying two payouts.
    "bank_credit_matched_once": (
        f"update {PAYOUT_VERDICTS} set bank_transaction_id = 'tx-gw-stripe' "
        "where payout_id = 'tr_gw_1' and match_status = 'matched'",
        "fail",
    ),
    "payout_matched_iff_credit": (
        f"update {PAYOUT_VERDICTS} set bank_transaction_id = null where payout_id = 'mercadopago:102:2026-10-06'",
        "fail",
    ),
    "payout_match_status_is_known": (
        f"update {PAYOUT_VERDICTS} set match_status = 'guessed', bank_transaction_id = null "
        "where payout_id = 'pushinpay:104:2026-10-02'",
        "fail",
    ),
    # The gateway's stated net no longer adds up with its gross, fee and split.
    "assert_payment_net_agrees_with_gateway": (
        f"update {PAYMENTS_MART} set stated_net_amount = net_amount + 0.11 where payment_id = '2001'",
        "fail",
    ),
    "payment_late_only_when_matched_late": (
        f"update {PAYMENT_RECONCILIATION} set days_late = 2 where payment_id = 'ch_gw_1'",
        "fail",
    ),
    # A rule's reason swapped for another rule's: the row leaves the documented table.
    "assert_payment_statuses_follow_the_rules_table": (
        f"update {PAYMENT_RECONCILIATION} set reason = 'refunded' where payment_id = '2002'",
        "fail",
    ),
    "assert_every_payment_reconciled": (
        f"delete from {PAYMENT_RECONCILIATION} where payment_id = 'tx-gw-1'",
        "fail",
    ),
    "split_parts_sum_to_gross": (
        f"update {SPLITS} set producer_amount = producer_amount + 0.01 where payment_id = '2001'",
        "fail",
    ),
    # A co-producer part (sum kept) at a gateway: a sales platform's reading leaking into a gateway's split.
    "split_by_role_only_at_sales_platforms": (
        f"update {SPLITS} set coproducer_commission = 0.01, producer_amount = producer_amount - 0.01 "
        "where payment_id = 'ch_gw_1'",
        "fail",
    ),
    "split_rate_source_is_known": (
        f"update {SPLITS} set rate_source = 'guessed' where payment_id = 'pay_gw_1'",
        "fail",
    ),
    "fee_not_overcharged": (
        f"update {FEE_AUDIT} set overcharged = true where payment_id = 'ch_gw_1'",
        "warn",
    ),
    "fee_audit_status_is_known": (
        f"update {FEE_AUDIT} set audit_status = 'disputed' where payment_id = 'pay_gw_1'",
        "fail",
    ),
    "fee_audit_month_once": (
        f"insert into {FEE_AUDIT_MONTHLY} select * from {FEE_AUDIT_MONTHLY} where platform = 'stripe'",
        "fail",
    ),
    "assert_business_day_calendar_covers_sale_dates": (
        f"update {MART} set evidence = evidence || '{{\"conciliation_deadline_date\": null}}'::jsonb "
        "where order_id = 'o-t-sale'",
        "error",
    ),
}


def insert(
    conn: psycopg.Connection,
    table: str,
    key_column: str,
    key: str | None,
    tenant: str,
    external_id: str,
    payload: dict,
    *,
    integration_id: int = 1,
    received_at: str | None = None,
) -> None:
    text = json.dumps(payload)
    # received_at only where given: on this branch only the gateway raw tables have it.
    extra_column, extra_value = (", received_at", (received_at,)) if received_at else ("", ())
    conn.execute(
        f"insert into raw.{table} (tenant_id, integration_id, external_id, payload_hash, version_key, payload, "
        f"{key_column}{extra_column}) values (%s, %s, %s, md5(%s), gen_random_uuid(), %s, %s"
        f"{', %s' if received_at else ''})",
        (tenant, integration_id, external_id, text, text, key, *extra_value),
    )


def unix(day: str, hour: int = 12) -> int:
    """Unix seconds of `day` at `hour`:00 UTC (Stripe's timestamps)."""
    return int(datetime.fromisoformat(day).replace(hour=hour, tzinfo=UTC).timestamp())


GATEWAY_TENANT = "t-gw"
STORE_CNPJ = "33444555000166"
# Integration id per gateway (control.integrations), each paying out to the store's CNPJ.
GATEWAY_INTEGRATIONS = {"stripe": 101, "mercadopago": 102, "asaas": 103, "pushinpay": 104}


def insert_gateway_payments(conn: psycopg.Connection) -> None:
    """One store's payments at the four gateways, paid out and credited: every one reconciles.

    Stripe ch_gw_1 (R$ 100, fee 3.99 + application fee 4.00) paid out by po_gw_1 on 6 Oct and a
    pending ch_gw_2; Mercado Pago 2001 (R$ 200) released 6 Oct and a rejected 2002; Asaas
    pay_gw_1 (R$ 50) swept by transfer tr_gw_1 on 2 Oct; PushinPay tx-gw-1 (R$ 30, seen paid
    by its webhook on 1 Oct, contract 1 % and 1 business day) swept on 2 Oct. The bank credits
    come from each gateway's CNPJ, PushinPay's by description only.
    """
    t = GATEWAY_TENANT
    for provider, integration_id in GATEWAY_INTEGRATIONS.items():
        conn.execute(
            "insert into control.integrations (integration_id, tenant_id, provider, name, external_ids, "
            "credentials, key_id) values (%s, %s, %s, 'store', %s, '\\x00', 'test')",
            (integration_id, t, provider, json.dumps({"payout_documents": ["33.444.555/0001-66"]})),
        )
    conn.execute(
        "insert into control.fee_schedules (tenant_id, platform, method, installments_from, installments_to, "
        "percent_fee, fixed_fee, release_days, valid_from) values "
        "(%s, 'stripe', 'card', 1, 12, 3.99, 0, null, '2026-01-01'), "
        "(%s, 'mercadopago', 'card', 1, 12, 4.99, 0, null, '2026-01-01'), "
        "(%s, 'pushinpay', 'pix', 1, 1, 1.00, 0, 1, '2026-01-01')",
        (t, t, t),
    )
    stripe, mercadopago, asaas, pushinpay = GATEWAY_INTEGRATIONS.values()
    txn = {
        "id": "txn_gw_1",
        "object": "balance_transaction",
        "type": "charge",
        "source": "ch_gw_1",
        "amount": 10000,
        "fee": 799,
        "net": 9201,
        "available_on": unix("2026-10-05"),
        "created": unix("2026-10-01"),
        "fee_details": [{"type": "stripe_fee", "amount": 399}, {"type": "application_fee", "amount": 400}],
    }
    rows = [
        (
            "stripe_charges",
            "payment_intent",
            "pi_gw_1",
            "ch_gw_1",
            stripe,
            {
                "id": "ch_gw_1",
                "status": "succeeded",
                "amount": 10000,
                "currency": "brl",
                "created": unix("2026-10-01"),
                "balance_transaction": "txn_gw_1",
                "payment_intent": "pi_gw_1",
                "metadata": {"order_id": "o-gw-s1", "product_id": "p1", "affiliate_id": "af1"},
                "payment_method_details": {"type": "card", "card": {"installments": {"plan": {"count": 2}}}},
            },
        ),
        (
            "stripe_charges",
            "payment_intent",
            "pi_gw_2",
            "ch_gw_2",
            stripe,
            {
                "id": "ch_gw_2",
                "status": "pending",
                "amount": 5000,
                "created": unix("2026-10-20"),
                "metadata": {"order_id": "o-gw-s2"},
                "payment_method_details": {"type": "pix"},
            },
        ),
        ("stripe_balance_transactions", "source_id", "ch_gw_1", "txn_gw_1", stripe, txn),
        (
            "stripe_payouts",
            "status",
            "paid",
            "po_gw_1",
            stripe,
            {
                "id": "po_gw_1",
                "status": "paid",
                "amount": 9201,
                "arrival_date": unix("2026-10-06"),
                "created": unix("2026-10-05"),
            },
        ),
        ("stripe_payout_transactions", "payout_id", "po_gw_1", "po_gw_1:txn_gw_1", stripe, txn),
        (
            "mercadopago_payments",
            "external_reference",
            "o-gw-m1",
            "2001",
            mercadopago,
            {
                "id": 2001,
                "status": "approved",
                "payment_type_id": "credit_card",
                "installments": 1,
                "transaction_amount": 200.0,
                "external_reference": "o-gw-m1",
                "metadata": {"product_id": "p1"},
                "fee_details": [
                    {"type": "mercadopago_fee", "amount": 9.98},
                    {"type": "application_fee", "amount": 8.0},
                ],
                "transaction_details": {"net_received_amount": 182.02},
                "date_created": "2026-10-01T10:00:00.000-03:00",
                "date_approved": "2026-10-01T10:00:05.000-03:00",
                "money_release_date": "2026-10-06T10:00:00.000-03:00",
            },
        ),
        (
            "mercadopago_payments",
            "external_reference",
            "o-gw-m2",
            "2002",
            mercadopago,
            {
                "id": 2002,
                "status": "rejected",
                "payment_type_id": "credit_card",
                "installments": 1,
                "transaction_amount": 80.0,
                "date_created": "2026-10-02T10:00:00.000-03:00",
            },
        ),
        (
            "asaas_payments",
            "external_reference",
            "o-gw-a1:p1",
            "pay_gw_1",
            asaas,
            {
                "id": "pay_gw_1",
                "status": "RECEIVED",
                "billingType": "PIX",
                "value": 50.0,
                "netValue": 49.01,
                "externalReference": "o-gw-a1:p1",
                "dateCreated": "2026-10-01",
                "dueDate": "2026-10-01",
                "confirmedDate": "2026-10-01",
                "paymentDate": "2026-10-01",
                "estimatedCreditDate": "2026-10-01",
            },
        ),
        (
            "asaas_financial_transactions",
            "payment_id",
            "pay_gw_1",
            "ft_gw_1",
            asaas,
            {
                "id": "ft_gw_1",
                "type": "PAYMENT_RECEIVED",
                "value": 49.01,
                "balance": 49.01,
                "date": "2026-10-01",
                "paymentId": "pay_gw_1",
                "description": "Cobrança recebida",
            },
        ),
        (
            "asaas_financial_transactions",
            "payment_id",
            None,
            "ft_gw_2",
            asaas,
            {
                "id": "ft_gw_2",
                "type": "TRANSFER",
                "value": -49.01,
                "balance": 0,
                "date": "2026-10-02",
                "transferId": "tr_gw_1",
                "description": "Transferência para conta bancária",
            },
        ),
        (
            "asaas_transfers",
            "status",
            "DONE",
            "tr_gw_1",
            asaas,
            {
                "id": "tr_gw_1",
                "status": "DONE",
                "value": 49.01,
                "transferFee": 0,
                "netValue": 49.01,
                "dateCreated": "2026-10-02",
                "effectiveDate": "2026-10-02",
                "operationType": "PIX",
            },
        ),
        (
            "pushinpay_transactions",
            "status",
            "paid",
            "tx-gw-1",
            pushinpay,
            {
                "id": "tx-gw-1",
                "status": "paid",
                "value": 3000,
                "split_rules": [],
                "webhook_url": "https://hooks.example/pushinpay?order=o-gw-p1&product=p1",
            },
        ),
    ]
    for table, key_column, key, external_id, integration_id, payload in rows:
        insert(conn, table, key_column, key, t, external_id, payload, integration_id=integration_id)
    insert(
        conn,
        "pushinpay_webhook_events",
        "transaction_id",
        "tx-gw-1",
        t,
        "tx-gw-1:paid",
        {"id": "tx-gw-1", "status": "paid", "value": 3000},
        integration_id=pushinpay,
        received_at="2026-10-01T12:00:00Z",
    )
    account = {
        "id": "a-gw",
        "itemId": "item",
        "type": "BANK",
        "subtype": "CHECKING_ACCOUNT",
        "name": "Conta",
        "balance": 0,
        "currencyCode": "BRL",
        "taxNumber": STORE_CNPJ,
    }
    insert(conn, "pluggy_accounts", "item_id", "item", t, "a-gw", account)
    credits = [
        ("tx-gw-stripe", "92.01", "2026-10-06", "22.121.209/0001-46", "TED STRIPE BRASIL"),
        ("tx-gw-mercadopago", "182.02", "2026-10-06", "10.573.521/0001-91", "PIX MERCADO PAGO"),
        ("tx-gw-asaas", "49.01", "2026-10-02", "19.540.550/0001-21", "PIX ASAAS"),
        ("tx-gw-pushinpay", "29.70", "2026-10-02", None, "PIX RECEBIDO PUSHIN PAY"),
    ]
    for txn_id, amount, posted, payer, description in credits:
        credit = {
            "id": txn_id,
            "accountId": "a-gw",
            "type": "CREDIT",
            "status": "POSTED",
            "amount": float(amount),
            "currencyCode": "BRL",
            "date": f"{posted}T00:00:00.000Z",
            "description": description,
        }
        if payer:
            credit["paymentData"] = {"payer": {"documentNumber": {"type": "CNPJ", "value": payer}}}
        insert(conn, "pluggy_transactions", "account_id", "a-gw", t, txn_id, credit)


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
        insert_gateway_payments(conn)
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
    assert {
        name: failures for name, (status, failures) in results.items() if status in ("fail", "warn")
    } == dict.fromkeys((name for name, (_, outcome) in CORRUPTIONS.items() if outcome in ("fail", "warn")), 1)


# The incremental payment relations keep their key unique on write (a unique index each), so no
# data test checks it: a duplicate row is refused when written.
UNIQUE_ON_WRITE = {
    PAYMENTS: "ch_gw_2",
    PAYMENTS_MART: "ch_gw_2",
    PAYMENT_RECONCILIATION: "ch_gw_2",
    SPLITS: "ch_gw_1",
    FEE_AUDIT: "2001",
}


def test_incremental_payment_relations_refuse_a_duplicate_key(built: str) -> None:
    with psycopg.connect(built, autocommit=True) as conn:
        for relation, payment_id in UNIQUE_ON_WRITE.items():
            assert conn.execute(f"select count(*) from {relation} where payment_id = %s", (payment_id,)).fetchone()[0]
            with pytest.raises(psycopg.errors.UniqueViolation):
                conn.execute(f"insert into {relation} select * from {relation} where payment_id = %s", (payment_id,))


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
    # The gateways: one object of each kind without the money, dates and keys the models need.
    ("stripe_charges", "payment_intent", {"id": "ch_bad"}),
    ("stripe_refunds", "charge", {"id": "re_bad", "status": "succeeded"}),
    ("stripe_disputes", "charge", {"id": "dp_bad", "amount": 100}),
    ("stripe_payouts", "status", {"id": "po_bad", "status": "paid"}),
    ("stripe_balance_transactions", "source_id", {"id": "txn_bad", "type": "charge", "fee": 10}),
    ("mercadopago_payments", "external_reference", {"id": 9999, "refunds": [{"id": "r-bad"}]}),
    ("asaas_payments", "external_reference", {"id": "pay_bad"}),
    ("asaas_financial_transactions", "payment_id", {"id": "ft_bad"}),
    ("asaas_transfers", "status", {"id": "tr_bad", "transferFee": 1.0}),
    ("pushinpay_transactions", "status", {"id": "tx-bad"}),
    ("pushinpay_webhook_events", "transaction_id", {"value": 100}),
    # The sales platforms: a paid sale without its dates and price, a sale without a status,
    # commissions and price details without their money, notifications without event or date.
    ("hotmart_sales", "status", {"product": {"id": 1}, "purchase": {"transaction": "HPbad", "status": "APPROVED"}}),
    ("hotmart_sales", "status", {"purchase": {"transaction": "HPbad2", "order_date": 1, "price": {"value": 1.0}}}),
    ("hotmart_commissions", "product_id", {"transaction": "HPbad", "commissions": [{"source": "PRODUCER"}]}),
    ("hotmart_price_details", "product_id", {"transaction": "HPbad"}),
    ("hotmart_webhook_events", "transaction", {"id": "evt-bad", "version": "2.0.0"}),
    ("kiwify_sales", "status", {"id": "kbad"}),
    ("kiwify_payouts", "status", {"id": "pbad", "status": "pending_review"}),
    ("kiwify_webhook_events", "order_id", {"order_id": "kbad"}),
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
    "stripe_charge_has_status",
    "stripe_charge_has_amount",
    "stripe_charge_has_created_at",
    "stripe_refund_has_charge",
    "stripe_refund_has_amount",
    "stripe_refund_has_created_at",
    "stripe_dispute_has_charge",
    "stripe_dispute_has_status",
    "stripe_payout_has_amount",
    "stripe_payout_has_arrival_date",
    "stripe_balance_transaction_has_amount",
    "stripe_balance_transaction_has_net",
    "stripe_balance_transaction_has_available_on",
    "mercadopago_payment_has_status",
    "mercadopago_payment_has_transaction_amount",
    "mercadopago_payment_has_created_at",
    "mercadopago_refund_has_amount",
    "mercadopago_refund_has_date",
    "asaas_payment_has_status",
    "asaas_payment_has_value",
    "asaas_payment_has_due_date",
    "asaas_statement_line_has_type",
    "asaas_statement_line_has_value",
    "asaas_statement_line_has_date",
    "asaas_transfer_has_net_value",
    "pushinpay_transaction_has_status",
    "pushinpay_transaction_has_value",
    "pushinpay_notification_has_transaction",
    "pushinpay_notification_has_status",
    "hotmart_sale_has_status",
    "hotmart_sale_has_order_date",
    "hotmart_sale_has_price",
    "hotmart_paid_sale_has_approved_date",
    "hotmart_commissions_have_values",
    "hotmart_price_details_have_total",
    "hotmart_price_details_have_fee",
    "hotmart_notification_has_event",
    "hotmart_notification_has_creation_date",
    "kiwify_sale_has_status",
    "kiwify_sale_has_charge_amount",
    "kiwify_sale_has_fee",
    "kiwify_sale_has_net_amount",
    "kiwify_sale_has_created_at",
    "kiwify_payout_has_amount",
    "kiwify_payout_has_created_at",
    "kiwify_notification_has_event_type",
}


def test_staging_tests_catch_malformed_money_and_dates(built: str) -> None:
    """Rows that reach raw without the extraction's checks (a manual insert) fail a staging test each."""
    with psycopg.connect(built) as conn:
        for n, (table, key_column, payload) in enumerate(BAD_ROWS):
            # Gateway rows leave their key column empty: it is what the staging tests look for.
            key = {"account_id": "a-bad", "merchant_id": "m-bad"}.get(key_column)
            insert(conn, table, key_column, key, "t-bad", f"bad-{n}", payload)
    results = dbt_results(built, ("build", "--select", "staging", "--exclude", "resource_type:unit_test"), as_of=AS_OF)
    # int_mercadopago__refunds unnests the payments' refunds[] and its tests guard them; a build
    # skips it once its parent's tests failed, so it is rebuilt and tested on its own.
    run_dbt(built, ("run", "--select", "int_mercadopago__refunds"), as_of=AS_OF, quiet=True)
    results |= dbt_results(built, ("test", "--select", "int_mercadopago__refunds"), as_of=AS_OF)
    failed = {name: failures for name, (status, failures) in results.items() if status in ("fail", "error")}
    assert failed == dict.fromkeys(STAGING_FAILURES, 1)
