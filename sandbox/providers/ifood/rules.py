"""The constants of iFood's reconciliation rules (docs/reconciliation-rules.md), shared by the facts and the truth.

Kept apart from `truth` so the fact records (a payout batch knows its deadline) and the rules
that read them need not import each other.
"""

from __future__ import annotations

import re
from decimal import Decimal

GRACE_DAYS = 3  # business days after the expected date a payment may still arrive and count as on time
TOLERANCE = Decimal("0.10")  # |paid - expected| up to this counts as paid in full
MISSING_FROM_CONCILIATION_DAYS = 2  # business days after the sale iFood has to book its events
CANCELLATION_WORDS = re.compile(r"cancel|estorno", re.IGNORECASE)

STATUSES = ("reconciled", "awaiting_settlement", "sales_only", "divergent", "cancelled")
# (status, reason) in the precedence order of docs/reconciliation-rules.md.
RULES: tuple[tuple[str, str | None], ...] = (
    ("cancelled", "refund_after_payment"),
    ("cancelled", "cancellation_event"),
    ("sales_only", "missing_from_conciliation"),
    ("sales_only", "no_financial_events"),
    ("divergent", "orphan_financial_event"),
    ("reconciled", None),
    ("divergent", "anticipation_fee"),
    ("divergent", "late_payment"),
    ("awaiting_settlement", "partially_paid"),
    ("divergent", "value_mismatch"),
    ("divergent", "payment_missing"),
    ("awaiting_settlement", "awaiting_payment"),
)
REASONS = RULES  # every (status, reason) pair, in the precedence order of docs/reconciliation-rules.md
DIVERGENT_REASONS = tuple(reason for status, reason in RULES if status == "divergent")
