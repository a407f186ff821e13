{#
    Asaas transfers to the bank as payouts (docs/payment-reconciliation-rules.md, "Payouts"):
    A = netValue (value − transferFee), D = effectiveDate, else scheduleDate. Transfers
    CANCELLED or FAILED never reach the bank and are left out. Every transfer is a payout,
    including those no payment's sweep names, so its bank credit is not mistaken for another's.
#}
with

transfers as (
    select * from {{ ref('stg_asaas__transfers') }}
),

final as (
    select
        transfer_id as payout_id,
        tenant_id,
        'asaas' as platform,
        integration_id,
        net_value as payout_amount,
        coalesce(effective_date, schedule_date) as payout_date
    from transfers
    where coalesce(status, '') not in ('CANCELLED', 'FAILED')
)

select * from final
