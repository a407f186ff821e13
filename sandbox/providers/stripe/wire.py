"""Stripe's JSON objects, rendered from the records as of a moment (`at`).

Money is integer centavos; timestamps are Unix seconds; the date fields (`available_on`,
`arrival_date`) are midnight UTC of their date (see the package docstring). Objects carry
Stripe's own fields, nulls included, as stripe-python 16.1.0's resource classes list them. A
snapshot as of `at` shows what was true then: a charge refunded later is not `refunded` in its
`charge.succeeded` event; a payout is `pending` when created, `paid` once its arrival day is past.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from sandbox.providers.stripe.generator import sp_date, sp_midnight
from sandbox.providers.stripe.records import BalanceTransaction, Charge, Dispute, Payout, Refund, StripeAccount

CURRENCY = "brl"


def ts(moment: datetime) -> int:
    return int(moment.timestamp())


def day_ts(day: date) -> int:
    """A date field (`available_on`, `arrival_date`): the Unix timestamp of its midnight UTC, as Stripe writes them."""
    return ts(datetime.combine(day, time(), UTC))


def balance_transaction(t: BalanceTransaction, at: datetime) -> dict[str, Any]:
    return {
        "id": t.txn_id,
        "object": "balance_transaction",
        "amount": t.amount,
        "available_on": day_ts(t.available_on),
        "balance_type": "payments",
        "created": ts(t.created),
        "currency": CURRENCY,
        "description": t.description,
        "exchange_rate": None,
        "fee": t.fee,
        "fee_details": [
            {
                "amount": d.amount,
                "application": d.application,
                "currency": CURRENCY,
                "description": d.description,
                "type": d.type,
            }
            for d in t.fee_details
        ],
        "net": t.net,
        "reporting_category": t.reporting_category,
        "source": t.source,
        "status": "available" if sp_midnight(t.available_on) <= at else "pending",
        "type": t.type,
    }


def _metadata(c: Charge) -> dict[str, str]:
    data = {"order_id": c.order.order_id, "product_id": c.order.product_id}
    if c.order.affiliate_id:
        data["affiliate_id"] = c.order.affiliate_id
    return data


def _payment_method_details(c: Charge) -> dict[str, Any]:
    if c.method == "pix":
        return {"pix": {"bank_transaction_id": c.pix_transaction_id}, "type": "pix"}
    plan = None
    if c.installments > 1:
        plan = {"plan": {"count": c.installments, "interval": "month", "type": "fixed_count"}}
    return {
        "card": {
            "amount_authorized": c.amount if c.status == "succeeded" else None,
            "brand": c.card_brand,
            "checks": {"address_line1_check": None, "address_postal_code_check": None, "cvc_check": "pass"},
            "country": "BR",
            "exp_month": 1 + int(c.card_last4 or "0") % 12,
            "exp_year": 2028 + int(c.card_last4 or "0") % 5,
            "fingerprint": c.method_id[-16:],
            "funding": "credit",
            "installments": plan,
            "last4": c.card_last4,
            "network": c.card_brand,
            "three_d_secure": None,
            "wallet": None,
        },
        "type": "card",
    }


def _outcome(c: Charge) -> dict[str, Any] | None:
    if c.status == "pending":
        return None
    if c.status == "failed":
        declined = c.failure_code == "card_declined"
        return {
            "network_status": "declined_by_network" if declined else "not_sent_to_network",
            "reason": "generic_decline" if declined else "expired",
            "risk_level": "normal",
            "seller_message": "The bank did not return any further details with this decline."
            if declined
            else "The customer did not pay before the PIX code expired.",
            "type": "issuer_declined" if declined else "invalid",
        }
    return {
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    }


def charge(c: Charge, account: StripeAccount, at: datetime) -> dict[str, Any]:
    refunded = c.refund is not None and c.refund.created <= at
    disputed = c.dispute is not None and c.dispute.created <= at
    succeeded = c.status == "succeeded"
    return {
        "id": c.charge_id,
        "object": "charge",
        "amount": c.amount,
        "amount_captured": c.amount if succeeded else 0,
        "amount_refunded": c.refund.amount if refunded and c.refund else 0,
        "application": account.application,
        "application_fee": c.application_fee_id,
        "application_fee_amount": c.application_fee_amount,
        "balance_transaction": c.txn_id,
        "billing_details": {
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "email": None,
            "name": None,
            "phone": None,
        },
        "calculated_statement_descriptor": account.name.upper().replace("-", " ")[:22],
        "captured": c.status != "failed",
        "created": ts(c.created),
        "currency": CURRENCY,
        "customer": None,
        "description": None,
        "disputed": disputed,
        "failure_balance_transaction": None,
        "failure_code": c.failure_code,
        "failure_message": c.failure_message,
        "fraud_details": {},
        "livemode": False,
        "metadata": _metadata(c),
        "on_behalf_of": None,
        "outcome": _outcome(c),
        "paid": succeeded,
        "payment_intent": c.intent_id,
        "payment_method": c.method_id,
        "payment_method_details": _payment_method_details(c),
        "receipt_email": None,
        "receipt_number": None,
        "receipt_url": f"https://pay.stripe.com/receipts/payment/{c.charge_id}",
        "refunded": refunded,
        "review": None,
        "shipping": None,
        "source": None,
        "source_transfer": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": c.status,
        "transfer_data": None,
        "transfer_group": None,
    }


def payment_intent(c: Charge, account: StripeAccount, at: datetime) -> dict[str, Any]:
    succeeded = c.status == "succeeded"
    status = {"succeeded": "succeeded", "pending": "requires_action", "failed": "requires_payment_method"}[c.status]
    error = None
    if c.status == "failed":
        error = {
            "code": c.failure_code,
            "decline_code": "generic_decline" if c.failure_code == "card_declined" else None,
            "message": c.failure_message,
            "payment_method": {"id": c.method_id, "object": "payment_method", "type": c.method},
            "type": "card_error" if c.method == "card" else "invalid_request_error",
        }
    next_action = None
    if c.status == "pending":
        expires = ts(c.order.created_at) + 86_400
        next_action = {
            "pix_display_qr_code": {
                "data": f"00020101021226880014br.gov.bcb.pix2566qr.stripe.com/pix/{c.intent_id}",
                "expires_at": expires,
                "hosted_instructions_url": f"https://payments.stripe.com/pix/instructions/{c.intent_id}",
                "image_url_png": f"https://qr.stripe.com/{c.intent_id}.png",
                "image_url_svg": f"https://qr.stripe.com/{c.intent_id}.svg",
            },
            "type": "pix_display_qr_code",
        }
    return {
        "id": c.intent_id,
        "object": "payment_intent",
        "amount": c.amount,
        "amount_capturable": 0,
        "amount_details": {"tip": {}},
        "amount_received": c.amount if succeeded else 0,
        "application": account.application,
        "application_fee_amount": c.application_fee_amount,
        "automatic_payment_methods": None,
        "canceled_at": None,
        "cancellation_reason": None,
        "capture_method": "automatic",
        "client_secret": f"{c.intent_id}_secret_{c.method_id[-25:]}",
        "confirmation_method": "automatic",
        "created": ts(c.order.created_at),
        "currency": CURRENCY,
        "customer": None,
        "description": None,
        "last_payment_error": error,
        "latest_charge": c.charge_id,
        "livemode": False,
        "metadata": _metadata(c),
        "next_action": next_action,
        "on_behalf_of": None,
        "payment_method": c.method_id if c.status != "failed" else None,
        "payment_method_options": {"card": {"installments": {"enabled": True}}} if c.method == "card" else {"pix": {}},
        "payment_method_types": [c.method],
        "processing": None,
        "receipt_email": None,
        "review": None,
        "setup_future_usage": None,
        "shipping": None,
        "source": None,
        "statement_descriptor": None,
        "statement_descriptor_suffix": None,
        "status": status,
        "transfer_data": None,
        "transfer_group": None,
    }


def refund(r: Refund, c: Charge, at: datetime) -> dict[str, Any]:
    return {
        "id": r.refund_id,
        "object": "refund",
        "amount": r.amount,
        "balance_transaction": r.txn_id,
        "charge": r.charge_id,
        "created": ts(r.created),
        "currency": CURRENCY,
        "destination_details": {"card": {"type": "refund"}, "type": "card"}
        if c.method == "card"
        else {"pix": {}, "type": "pix"},
        "metadata": {},
        "payment_intent": c.intent_id,
        "reason": r.reason,
        "receipt_number": None,
        "source_transfer_reversal": None,
        "status": "succeeded",
        "transfer_reversal": None,
    }


def dispute(d: Dispute, c: Charge, txn: BalanceTransaction, at: datetime) -> dict[str, Any]:
    if at <= d.created:
        status = "needs_response"
    elif d.status == "lost":
        status = "lost" if d.closed_at is not None and d.closed_at <= at else "under_review"
    else:
        status = d.status
    return {
        "id": d.dispute_id,
        "object": "dispute",
        "amount": d.amount,
        "balance_transactions": [balance_transaction(txn, at)],
        "charge": d.charge_id,
        "created": ts(d.created),
        "currency": CURRENCY,
        "enhanced_eligibility_types": [],
        "evidence": {
            "access_activity_log": None,
            "billing_address": None,
            "cancellation_policy": None,
            "customer_communication": None,
            "customer_email_address": None,
            "customer_name": None,
            "product_description": None,
            "receipt": None,
            "refund_policy": None,
            "service_date": None,
            "uncategorized_text": None,
        },
        "evidence_details": {
            "due_by": ts(d.created) + 7 * 86_400,
            "has_evidence": False,
            "past_due": False,
            "submission_count": 0,
        },
        "is_charge_refundable": False,
        "livemode": False,
        "metadata": {},
        "network_reason_code": {"fraudulent": "10.4", "product_not_received": "13.1"}.get(d.reason, "13.7"),
        "payment_intent": c.intent_id,
        "payment_method_details": {"card": {"brand": c.card_brand, "network_reason_code": None}, "type": "card"},
        "reason": d.reason,
        "status": status,
    }


def payout(p: Payout, account: StripeAccount, at: datetime) -> dict[str, Any]:
    if at <= p.created:
        status = "pending"
    elif p.arrival < sp_date(at):
        status = "paid"
    else:
        status = "in_transit"
    return {
        "id": p.payout_id,
        "object": "payout",
        "amount": p.amount,
        "application_fee": None,
        "application_fee_amount": None,
        "arrival_date": day_ts(p.arrival),
        "automatic": True,
        "balance_transaction": p.txn_id,
        "created": ts(p.created),
        "currency": CURRENCY,
        "description": "STRIPE PAYOUT",
        "destination": account.bank_account,
        "failure_balance_transaction": None,
        "failure_code": None,
        "failure_message": None,
        "livemode": False,
        "metadata": {},
        "method": "standard",
        "original_payout": None,
        "reconciliation_status": "completed" if status == "paid" else "in_progress",
        "reversed_by": None,
        "source_type": "card",
        "statement_descriptor": None,
        "status": status,
        "trace_id": {"status": "supported" if status == "paid" else "pending", "value": None},
        "type": "bank_account",
    }
