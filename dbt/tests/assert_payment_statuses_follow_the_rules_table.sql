{#
    Every row of fct_payment_reconciliation carries a (rule, status, reason) of the documented
    table (docs/payment-reconciliation-rules.md, "Status and reason of a payment"), written out
    here once more so the mart is checked against the document rather than against its own
    CASE; and its rule agrees with its canonical status (rules 1-2 and 6-15 only for the
    statuses they name). Rows that do not are returned.
#}
with

reconciliation as (
    select * from {{ ref('fct_payment_reconciliation') }}
),

rules_table as (
    select *
    from (
        values
            (1, 'RECONCILED', 'nothing_due', array['failed', 'expired']),
            (2, 'PENDING', 'awaiting_payment', array['pending']),
            (3, 'DISCREPANCY', 'chargeback', array['charged_back']),
            (4, 'DISCREPANCY', 'refunded_after_payout', array['refunded']),
            (5, 'RECONCILED', 'refunded', array['refunded']),
            (6, 'PENDING', 'awaiting_release', array['paid']),
            (7, 'PENDING', 'awaiting_payout', array['paid']),
            (8, 'DISCREPANCY', 'not_paid_out', array['paid']),
            (9, 'RECONCILED', null, array['paid']),
            (10, 'MANUAL_REVIEW', 'ambiguous_credit', array['paid']),
            (11, 'MANUAL_REVIEW', 'split_credit', array['paid']),
            (12, 'DISCREPANCY', 'late_payout', array['paid']),
            (13, 'DISCREPANCY', 'amount_mismatch', array['paid']),
            (14, 'DISCREPANCY', 'payout_missing', array['paid']),
            (15, 'PENDING', 'awaiting_payout', array['paid'])
    ) as rules (rule_number, status, reason, payment_statuses)
),

off_the_table as (
    select
        reconciliation.tenant_id,
        reconciliation.platform,
        reconciliation.payment_id,
        reconciliation.payment_status,
        reconciliation.rule,
        reconciliation.status,
        reconciliation.reason
    from reconciliation
    left join rules_table
        on reconciliation.rule = rules_table.rule_number
        and reconciliation.status = rules_table.status
        and reconciliation.reason is not distinct from rules_table.reason
        and reconciliation.payment_status = any(rules_table.payment_statuses)
    where rules_table.rule_number is null
)

select * from off_the_table
