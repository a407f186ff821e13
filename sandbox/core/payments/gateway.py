"""`GatewayFacts`: the generic half of a gateway's `PlatformFacts`, whose ground truth is the rules document's.

A gateway's facts class extends it with what its fake API serves. It lives apart from the fact
types (`sandbox.core.payments.facts`) because it is where the facts meet the truth
(`sandbox.core.payments.truth`), which reads those types: keeping the two apart keeps imports one-way.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property
from typing import Any

from sandbox.core.parties import Store
from sandbox.core.payments.checkout import SplitRate
from sandbox.core.payments.facts import (
    REASONS,
    STATUSES,
    CreditFacts,
    FeeScheduleRow,
    PaymentFacts,
    PayoutFacts,
    Tolerances,
)
from sandbox.core.payments.truth import SALES_TRUTH_COLUMNS, TRUTH_COLUMNS, payment_truth, sales_truth


@dataclass
class GatewayFacts:
    """The generic half of a gateway's `PlatformFacts`: its ground truth from the rules document.

    A gateway's facts class extends it (a dataclass) with what its API serves and implements
    `tenant_credentials` and `digest_parts`. `fee_schedules` and `split_rates` are the tenants'
    contracts (what `World.contracts()` exports for the warehouse's control tables).
    """

    platform: str
    as_of: date
    payments: Sequence[PaymentFacts]
    payouts: Sequence[PayoutFacts]
    credits: Sequence[CreditFacts]
    fee_schedules: Sequence[FeeScheduleRow]
    split_rates: Sequence[SplitRate]
    tolerances: Tolerances = field(default_factory=Tolerances)
    # the split model's part the gateway's withheld split is compared with (rules doc, "Splits")
    withheld_part: str = "platform_fee"
    # a sales platform's payout rule (truth.PAYOUT_RULES: "daily_deposit", "payout_by_date"); None
    # for a gateway. A sales platform's truth is `sales_truth` (rules doc, "Sales platforms").
    payout_rule: str | None = None

    statuses: tuple[str, ...] = STATUSES
    reasons: tuple[tuple[str, str | None], ...] = REASONS

    @property
    def truth_columns(self) -> tuple[str, ...]:
        return TRUTH_COLUMNS if self.payout_rule is None else SALES_TRUTH_COLUMNS

    @cached_property
    def _truth(self) -> tuple[dict[str, Any], ...]:
        if self.payout_rule is not None:
            return tuple(
                sales_truth(
                    self.payments,
                    self.payouts,
                    self.credits,
                    as_of=self.as_of,
                    tolerances=self.tolerances,
                    split_rates=self.split_rates,
                    fee_schedules=self.fee_schedules,
                    payout_rule=self.payout_rule,
                )
            )
        rows = payment_truth(
            self.payments,
            self.payouts,
            self.credits,
            as_of=self.as_of,
            tolerances=self.tolerances,
            split_rates=self.split_rates,
            fee_schedules=self.fee_schedules,
            withheld_part=self.withheld_part,
        )
        return tuple(rows)

    def ground_truth(self) -> list[dict[str, Any]]:
        return [dict(row) for row in self._truth]

    def summary(self) -> dict[str, int]:
        return {"payments": len(self.payments), "payouts": len(self.payouts)}

    def contract_rows(self) -> Mapping[str, list[dict[str, Any]]]:
        """The tenants' contracts with this gateway, as control-table rows."""
        return {
            "fee_schedules": [row.to_dict() for row in self.fee_schedules],
            "split_rates": [row.to_dict() for row in self.split_rates],
        }

    def generic_digest_parts(self) -> Iterator[str]:
        for p in self.payments:
            yield repr((p.payment_id, p.order.order_id, p.status, p.gross, p.fee, p.split_withheld, p.payout_id))
        for x in self.payouts:
            yield repr((x.payout_id, x.amount, x.date))


def account_credentials(
    name: str, store: Store, webhook_secret: str, payout_document: str, **credentials: str
) -> dict[str, Any]:
    """One gateway account as `tenant_credentials` lists it: the one shape the demo, the tests and
    `sandbox credentials` read (`{"accounts": [this, …]}`, one integration each): its name, the
    provider's credential fields, the CNPJ its payouts go to, its webhook secret and its store."""
    return {
        "name": name,
        **credentials,
        "payout_documents": [payout_document],
        "webhook_secret": webhook_secret,
        "store": store.name,
    }
