"""The gateways' ground truth against hand-made cases, one per row and step of the rules document.

Each case is built in the generic terms of sandbox.core.payments.facts, with its expected answer
read off docs/payment-reconciliation-rules.md by hand, so a rule written wrongly in truth.py fails
here whatever the generators do.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal as D

import pytest

from sandbox.core.calendar import SAO_PAULO
from sandbox.core.parties import BankAccount, Store
from sandbox.core.payments.checkout import CheckoutOrder, SplitRate
from sandbox.core.payments.facts import CreditFacts, FeeScheduleRow, PaymentFacts, PayoutFacts, Tolerances
from sandbox.core.payments.truth import match_payouts, payment_truth, split_parts

AS_OF = date(2026, 10, 30)  # a Friday
ACCOUNT = "acc-1"
STORE = Store(
    "tenant-001", "Loja", "Loja Ltda", "11.222.333/0001-81", BankAccount(ACCOUNT, "B", "001", "1", "1-1", D(0))
)
TOL = Tolerances()


def at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), SAO_PAULO).astimezone(UTC)


def order(
    order_id: str = "ord_1", *, product: str = "prd_1", affiliate: str | None = None, method: str = "card"
) -> CheckoutOrder:
    return CheckoutOrder(
        order_id,
        "tenant-001",
        STORE,
        product,
        "off",
        None,
        None,
        affiliate,
        D("100.00"),
        method,
        1,
        at(date(2026, 10, 1)),
    )


def payment(
    pid: str,
    *,
    status: str = "paid",
    payout: str | None = None,
    release: date | None = date(2026, 10, 5),
    refunded: date | None = None,
    fee: str = "4.00",
    withheld: str = "0",
    gross: str = "100.00",
    affiliate: str | None = None,
    method: str = "card",
    paid: date = date(2026, 10, 1),
) -> PaymentFacts:
    return PaymentFacts(
        "gw",
        "tenant-001",
        "acct",
        ACCOUNT,
        pid,
        order(f"o-{pid}", affiliate=affiliate, method=method),
        1,
        status,
        D(gross),
        D(fee),
        D(withheld),
        at(paid) if status != "pending" else None,
        release,
        at(refunded) if refunded else None,
        payout,
    )


def payout(pid: str, amount: str, day: date, account: str = ACCOUNT) -> PayoutFacts:
    return PayoutFacts("gw", "tenant-001", "acct", account, pid, D(amount), day)


def credit(txn: str, amount: str, day: date, account: str = ACCOUNT, platform: str = "gw") -> CreditFacts:
    return CreditFacts(platform, account, txn, day, D(amount))


def verdicts(payouts, credits):
    return {
        k: (v.kind, v.credit.transaction_id if v.credit else None, v.late)
        for k, v in match_payouts(payouts, credits, as_of=AS_OF, tolerances=TOL).items()
    }


def test_step1_exact_same_day_groups_pair_in_id_order():
    ps = [payout("po_b", "50.00", date(2026, 10, 5)), payout("po_a", "50.00", date(2026, 10, 5))]
    cs = [credit("t2", "50.00", date(2026, 10, 5)), credit("t1", "50.00", date(2026, 10, 5))]
    assert verdicts(ps, cs) == {"po_a": ("matched", "t1", False), "po_b": ("matched", "t2", False)}


def test_step1_two_equal_credits_for_one_payout_is_ambiguous_and_both_are_taken():
    ps = [payout("po_a", "50.00", date(2026, 10, 5)), payout("po_late", "50.00", date(2026, 10, 2))]
    cs = [credit("t1", "50.00", date(2026, 10, 5)), credit("t2", "50.00", date(2026, 10, 5))]
    v = verdicts(ps, cs)
    assert v["po_a"] == ("ambiguous", None, False)
    # the earlier payout may not take either of the group's credits in step 2: nothing else → missing
    assert v["po_late"][0] == "missing"


def test_step1_fewer_credits_than_payouts_is_ambiguous():
    ps = [payout("po_a", "50.00", date(2026, 10, 5)), payout("po_b", "50.00", date(2026, 10, 5))]
    assert {k: v[0] for k, v in verdicts(ps, [credit("t1", "50.00", date(2026, 10, 5))]).items()} == {
        "po_a": "ambiguous",
        "po_b": "ambiguous",
    }


def test_step2_rounding_on_time_and_late_and_tolerance_boundary():
    ps = [
        payout("po_r", "80.00", date(2026, 10, 5)),
        payout("po_l", "70.00", date(2026, 10, 5)),
        payout("po_x", "60.00", date(2026, 10, 6)),
    ]
    cs = [
        credit("t1", "79.90", date(2026, 10, 5)),  # 0.10 off: within (inclusive)
        credit("t2", "70.00", date(2026, 10, 9)),  # deadline of the 5th + 3 business days = 8th → late
        credit("t3", "59.89", date(2026, 10, 6)),  # 0.11 off: not a candidate → short
    ]
    v = verdicts(ps, cs)
    assert v["po_r"] == ("matched", "t1", False)
    assert v["po_l"] == ("matched", "t2", True)
    assert v["po_x"][0] == "short"


def test_step2_shared_candidate_is_ambiguous_for_both():
    ps = [payout("po_a", "40.00", date(2026, 10, 5)), payout("po_b", "40.05", date(2026, 10, 5))]
    cs = [credit("t1", "40.02", date(2026, 10, 7))]
    assert {k: v[0] for k, v in verdicts(ps, cs).items()} == {"po_a": "ambiguous", "po_b": "ambiguous"}


def test_step2_never_looks_before_d_nor_at_other_accounts_or_payers():
    ps = [payout("po_a", "40.00", date(2026, 10, 7))]
    cs = [
        credit("t1", "40.00", date(2026, 10, 6)),
        credit("t2", "40.00", date(2026, 10, 7), account="other"),
        credit("t3", "40.00", date(2026, 10, 7), platform="else"),
    ]
    assert verdicts(ps, cs)["po_a"][0] == "missing"


def test_step3_split_short_missing_and_in_transit():
    ps = [
        payout("po_s", "100.00", date(2026, 10, 5)),
        payout("po_m", "33.00", date(2026, 10, 13)),
        payout("po_t", "33.00", date(2026, 10, 28)),  # deadline Nov 2 (Nov 2 is a holiday? no: Finados) ≥ as-of
        payout("po_f", "12.00", date(2026, 10, 30)),  # D = as-of: in transit
    ]
    cs = [credit("t1", "60.00", date(2026, 10, 5)), credit("t2", "40.00", date(2026, 10, 6))]
    v = {k: x[0] for k, x in verdicts(ps, cs).items()}
    assert v == {"po_s": "split", "po_m": "missing", "po_t": "in_transit", "po_f": "in_transit"}


def test_credits_dated_on_or_after_as_of_are_not_visible():
    ps = [payout("po_a", "10.00", date(2026, 10, 28))]
    assert verdicts(ps, [credit("t1", "10.00", AS_OF)])["po_a"][0] == "in_transit"


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({"status": "failed"}, ("RECONCILED", "nothing_due", 1)),
        ({"status": "expired", "method": "pix"}, ("RECONCILED", "nothing_due", 1)),
        ({"status": "pending"}, ("PENDING", "awaiting_payment", 2)),
        ({"status": "charged_back", "payout": "po_ok"}, ("DISCREPANCY", "chargeback", 3)),
        (
            {"status": "refunded", "payout": "po_ok", "refunded": date(2026, 10, 8)},
            ("DISCREPANCY", "refunded_after_payout", 4),
        ),
        ({"status": "refunded", "payout": "po_ok", "refunded": date(2026, 10, 5)}, ("RECONCILED", "refunded", 5)),
        ({"status": "refunded", "refunded": date(2026, 10, 20)}, ("RECONCILED", "refunded", 5)),
        ({"release": AS_OF}, ("PENDING", "awaiting_release", 6)),
        ({"release": date(2026, 10, 27)}, ("PENDING", "awaiting_payout", 7)),  # deadline Oct 30 ≥ as-of
        ({"release": date(2026, 10, 26)}, ("DISCREPANCY", "not_paid_out", 8)),  # deadline Oct 29 < as-of
        ({"payout": "po_ok"}, ("RECONCILED", None, 9)),
        ({"payout": "po_amb"}, ("MANUAL_REVIEW", "ambiguous_credit", 10)),
        ({"payout": "po_split"}, ("MANUAL_REVIEW", "split_credit", 11)),
        ({"payout": "po_late"}, ("DISCREPANCY", "late_payout", 12)),
        ({"payout": "po_short"}, ("DISCREPANCY", "amount_mismatch", 13)),
        ({"payout": "po_missing"}, ("DISCREPANCY", "payout_missing", 14)),
        ({"payout": "po_transit"}, ("PENDING", "awaiting_payout", 15)),
    ],
)
def test_status_rows_first_match_wins(kwargs, expected):
    payouts = [
        payout("po_ok", "96.00", date(2026, 10, 5)),
        payout("po_amb", "11.00", date(2026, 10, 6)),
        payout("po_split", "50.00", date(2026, 10, 7)),
        payout("po_late", "22.00", date(2026, 10, 8)),
        payout("po_short", "33.00", date(2026, 10, 9)),
        payout("po_missing", "44.00", date(2026, 10, 13)),
        payout("po_transit", "55.00", date(2026, 10, 29)),
    ]
    credits = [
        credit("c_ok", "96.00", date(2026, 10, 5)),
        credit("c_amb1", "11.00", date(2026, 10, 6)),
        credit("c_amb2", "11.00", date(2026, 10, 6)),
        credit("c_sp1", "20.00", date(2026, 10, 7)),
        credit("c_sp2", "30.00", date(2026, 10, 8)),
        credit("c_late", "22.00", date(2026, 10, 19)),
        credit("c_short", "30.00", date(2026, 10, 9)),
    ]
    row = payment_truth(
        [payment("p1", **kwargs)], payouts, credits, as_of=AS_OF, tolerances=TOL, split_rates=[], fee_schedules=[]
    )[0]
    assert (row["status"], row["reason"], row["rule"]) == expected
    if expected[2] == 9:
        assert row["bank_transaction_id"] == "c_ok" and row["days_late"] is None
    if expected[2] == 12:
        # Oct 9, 13, 14, 15, 16, 19: six business days (Oct 12 is a holiday)
        assert row["bank_transaction_id"] == "c_late" and row["days_late"] == 6


def test_split_parts_sum_to_gross_and_round_half_up():
    # 0.04 × 10.05 = 0.402 → 0.40; (10.05 − 0.40) × 0.30 = 2.895 → 2.90 (half up, not to even)
    assert split_parts(D("10.05"), D("0.04"), D("0.30"), True) == (D("0.40"), D("2.90"), D("6.75"))
    for gross in ("0.01", "0.03", "19.99", "1234567.89", "97.00"):
        parts = split_parts(D(gross), D("0.04"), D("0.30"), True)
        assert sum(parts) == D(gross)
    assert split_parts(D("100.00"), D("0.04"), D("0.30"), False) == (D("4.00"), D("0.00"), D("96.00"))


def test_split_rates_by_validity_product_then_tenant_then_defaults_and_reported_difference():
    rates = [
        SplitRate("tenant-001", None, D("0.05"), D("0.20"), date(2015, 1, 1), None),
        SplitRate("tenant-001", "prd_1", D("0.10"), D("0.50"), date(2026, 10, 10), None),
    ]
    early = payment("p1", affiliate="aff", withheld="5.00", paid=date(2026, 10, 2))
    late = payment("p2", affiliate="aff", withheld="10.00", paid=date(2026, 10, 12))
    rows = payment_truth([early, late], [], [], as_of=AS_OF, tolerances=TOL, split_rates=rates, fee_schedules=[])
    assert (rows[0]["platform_fee"], rows[0]["affiliate_commission"], rows[0]["producer_amount"]) == (
        D("5.00"),
        D("19.00"),
        D("76.00"),
    )
    assert (rows[1]["platform_fee"], rows[1]["affiliate_commission"]) == (D("10.00"), D("45.00"))
    assert rows[0]["split_difference"] == D("0.00") and rows[0]["split_mismatch"] is False
    other = payment_truth([payment("p3")], [], [], as_of=AS_OF, tolerances=TOL, split_rates=[], fee_schedules=[])[0]
    assert other["platform_fee"] == D("4.00") and other["split_difference"] is None  # defaults, nothing withheld
    by_affiliate = payment_truth(
        [payment("p4", affiliate="aff", withheld="28.82")],
        [],
        [],
        as_of=AS_OF,
        tolerances=TOL,
        split_rates=[],
        fee_schedules=[],
        withheld_part="affiliate_commission",
    )[0]
    assert by_affiliate["split_difference"] == D("0.02") and by_affiliate["split_mismatch"] is True


def test_fee_audit_contract_by_band_and_validity_with_tolerance():
    rows = [
        FeeScheduleRow(
            "tenant-001", "gw", "card", 1, 1, D("3.99"), D("0.39"), None, date(2026, 1, 1), date(2026, 10, 9)
        ),
        FeeScheduleRow("tenant-001", "gw", "card", 1, 1, D("2.99"), D("0.39"), None, date(2026, 10, 10), None),
    ]
    ok = payment("p1", fee="4.38")  # 3.99 % of 100 + 0.39
    cent = payment("p2", fee="4.39")  # one cent over: within the tolerance
    over = payment("p3", fee="4.40")
    after = payment("p4", fee="4.38", paid=date(2026, 10, 12))  # the new contract: 3.38 due, 1.00 over
    pix = payment("p5", fee="1.00", method="pix")
    out = payment_truth(
        [ok, cent, over, after, pix], [], [], as_of=AS_OF, tolerances=TOL, split_rates=[], fee_schedules=rows
    )
    assert [(r["contracted_fee"], r["overcharge_amount"], r["fee_status"]) for r in out] == [
        (D("4.38"), D("0.00"), "ok"),
        (D("4.38"), D("0.00"), "ok"),
        (D("4.38"), D("0.02"), "overcharged"),
        (D("3.38"), D("1.00"), "overcharged"),
        (None, None, "no_contract"),
    ]


def test_payments_that_took_no_money_have_no_split_or_audit():
    row = payment_truth(
        [payment("p1", status="failed")], [], [], as_of=AS_OF, tolerances=TOL, split_rates=[], fee_schedules=[]
    )[0]
    assert row["platform_fee"] is None and row["fee_status"] is None
