{#
    Asaas payments as canonical payments (docs/payment-reconciliation-rules.md): one row per
    payment, so an installment plan is one row per installment, all with the plan's order id
    and installments = how many payments share the plan's `installment` id. Fee = value −
    netValue, split withheld = Σ split[].totalValue, stated net = netValue − splits,
    R = estimatedCreditDate, paid_at = confirmedDate (else paymentDate).

    The payout is the statement sweep: the first TRANSFER line of the integration's statement
    dated after the payment's credit line (the tenant's automatic transfer runs at the start of
    each business day and sweeps what the days before it left: the rules document, "Payouts"),
    names the transfer that carried the payment's net to the bank. In the statement order used
    here a date's TRANSFER lines come first, then its other lines by id.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - a deleted payment (`deleted` true) is `failed` whatever its last status: deletion is a
      fact about the record, so it is checked before the status rows;
    - statuses outside the table: REFUND_REQUESTED, REFUND_IN_PROGRESS and DUNNING_RECEIVED are
      `paid` (the money is still the tenant's), DUNNING_REQUESTED is `expired`;
    - the payment's credit line is its first statement line with a positive value;
    - transfers CANCELLED or FAILED pay nothing: the sweep skips to a later transfer line only
      if Asaas writes one, otherwise the payment has no payout;
    - dates are the calendar dates Asaas writes (local time); paid_at is midnight São Paulo of
      confirmedDate, so its São Paulo date is that date;
    - refunded_at is the latest `refunds[].dateCreated` of refunds not CANCELLED, else the
      first PAYMENT_REFUNDED statement line of the payment.
#}
with

payments as (
    select * from {{ ref('stg_asaas__payments') }}
),

statement_lines as (
    select * from {{ ref('stg_asaas__financial_transactions') }}
),

transfers as (
    select * from {{ ref('stg_asaas__transfers') }}
),

statement_ordered as (
    select
        *,
        row_number() over (
            partition by tenant_id, integration_id
            order by transaction_date, (type = 'TRANSFER') desc, financial_transaction_id
        ) as statement_position
    from statement_lines
),

next_transfers as (
    select
        *,
        min(statement_position) filter (where type = 'TRANSFER') over (
            partition by tenant_id, integration_id
            order by statement_position
            rows between 1 following and unbounded following
        ) as next_transfer_position
    from statement_ordered
),

credit_lines as (
    select distinct on (tenant_id, payment_id)
        tenant_id,
        integration_id,
        payment_id,
        financial_transaction_id,
        transaction_date,
        next_transfer_position
    from next_transfers
    where payment_id is not null
        and value > 0
    order by tenant_id, payment_id, statement_position
),

payment_transfers as (
    select
        credit_lines.tenant_id,
        credit_lines.payment_id,
        transfers.transfer_id
    from credit_lines
    inner join statement_ordered as transfer_lines
        on credit_lines.tenant_id = transfer_lines.tenant_id
        and credit_lines.integration_id = transfer_lines.integration_id
        and credit_lines.next_transfer_position = transfer_lines.statement_position
    inner join transfers
        on transfer_lines.tenant_id = transfers.tenant_id
        and transfer_lines.transfer_id = transfers.transfer_id
    where coalesce(transfers.status, '') not in ('CANCELLED', 'FAILED')
),

refund_lines as (
    select
        tenant_id,
        payment_id,
        min(transaction_date) as refunded_date
    from statement_lines
    where type = 'PAYMENT_REFUNDED'
        and payment_id is not null
    group by tenant_id, payment_id
),

refunds_listed as (
    select
        payments.tenant_id,
        payments.payment_id,
        max({{ from_sao_paulo_text("refund ->> 'dateCreated'") }})
            filter (where coalesce(refund ->> 'status', '') <> 'CANCELLED')
            as last_refunded_at,
        jsonb_agg(refund order by refund ->> 'dateCreated') as refunds
    from payments
    cross join lateral jsonb_array_elements(payments.refunds) as refunds_array (refund)
    group by payments.tenant_id, payments.payment_id
),

installment_plans as (
    select
        tenant_id,
        installment_id,
        count(*) as installment_count
    from payments
    where installment_id is not null
    group by tenant_id, installment_id
),

mapped as (
    select
        payments.tenant_id,
        'asaas' as platform,
        payments.integration_id,
        payments.payment_id,
        payments.order_id,
        payments.product_id,
        payments.affiliate_id,
        case payments.billing_type
            when 'CREDIT_CARD' then 'card'
            when 'PIX' then 'pix'
            when 'BOLETO' then 'boleto'
            else lower(payments.billing_type)
        end as method,
        cast(coalesce(installment_plans.installment_count, 1) as integer) as installments,
        payments.status as gateway_status,
        case
            when payments.is_deleted then 'failed'
            when payments.status in (
                'CHARGEBACK_REQUESTED', 'CHARGEBACK_DISPUTE', 'AWAITING_CHARGEBACK_REVERSAL'
            ) then 'charged_back'
            when payments.status = 'REFUNDED' then 'refunded'
            when payments.status in (
                'CONFIRMED', 'RECEIVED', 'RECEIVED_IN_CASH',
                'REFUND_REQUESTED', 'REFUND_IN_PROGRESS', 'DUNNING_RECEIVED'
            ) then 'paid'
            when payments.status in ('PENDING', 'AWAITING_RISK_ANALYSIS') then 'pending'
            when payments.status in ('OVERDUE', 'DUNNING_REQUESTED') then 'expired'
        end as payment_status,
        payments.value as gross_amount,
        cast(coalesce(payments.value - payments.net_value, 0) as numeric(18, 2))
            as fee_amount,
        'gateway' as fee_source,
        payments.split_total_value as split_withheld_amount,
        cast(payments.net_value - payments.split_total_value as numeric(18, 2))
            as stated_net_amount,
        {{ from_sao_paulo_text('cast(coalesce(payments.confirmed_date, payments.payment_date) as text)') }}
            as paid_at,
        coalesce(
            refunds_listed.last_refunded_at,
            {{ from_sao_paulo_text('cast(refund_lines.refunded_date as text)') }}
        ) as last_refunded_at,
        payments.estimated_credit_date as expected_release_date,
        payment_transfers.transfer_id as payout_id,
        coalesce(refunds_listed.refunds, '[]'::jsonb) as refunds
    from payments
    left join installment_plans
        on payments.tenant_id = installment_plans.tenant_id
        and payments.installment_id = installment_plans.installment_id
    left join payment_transfers
        on payments.tenant_id = payment_transfers.tenant_id
        and payments.payment_id = payment_transfers.payment_id
    left join refunds_listed
        on payments.tenant_id = refunds_listed.tenant_id
        and payments.payment_id = refunds_listed.payment_id
    left join refund_lines
        on payments.tenant_id = refund_lines.tenant_id
        and payments.payment_id = refund_lines.payment_id
),

final as (
    select
        tenant_id,
        platform,
        integration_id,
        payment_id,
        order_id,
        product_id,
        affiliate_id,
        method,
        installments,
        gateway_status,
        payment_status,
        cast(gross_amount as numeric(18, 2)) as gross_amount,
        cast(fee_amount as numeric(18, 2)) as fee_amount,
        fee_source,
        cast(split_withheld_amount as numeric(18, 2)) as split_withheld_amount,
        cast(gross_amount - fee_amount - split_withheld_amount as numeric(18, 2))
            as net_amount,
        cast(stated_net_amount as numeric(18, 2)) as stated_net_amount,
        paid_at,
        case when payment_status = 'refunded' then last_refunded_at end as refunded_at,
        expected_release_date,
        payout_id,
        refunds,
        '[]'::jsonb as disputes
    from mapped
)

select * from final
