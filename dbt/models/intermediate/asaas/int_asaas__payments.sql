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

    The sweep is found per payment, not by numbering the whole statement: the payment's credit
    line, then the first TRANSFER line of its integration after it in statement order (an
    index walk from the credit's date), so computing a few payments reads a few lines.

    Incremental: a daily build recomputes the payments touched since the newest load it holds
    (minus var('staging_reload_hours')): those loaded, those with a statement line loaded, the
    other installments of a plan that gained one (their count), and the payments a changed
    sweep can move: for each integration with a TRANSFER line loaded, or a transfer whose
    record was loaded (a cancellation), every payment credited on or after the last TRANSFER
    line dated before the earliest such line (credits before it are swept by an unchanged
    transfer). last_loaded_at is the newest load among the payment, its lines, its sweep's
    line and transfer; changed_at when the build that last wrote the row ran.

    Planning (measured on the 1M-payment benchmark's daily build: 122 s → 0.9 s): the transfers
    (a deduplicating view) and the sweeps are computed once (`materialized`), and nested loops
    are off for this model's transaction except where nothing else can run (the lateral index
    walk of the sweep). Left to its estimates, PostgreSQL re-ran the transfers view once per
    swept payment and then paired every touched payment with every sweep (DECISIONLOG 41).
#}
{{
    config(
        materialized='incremental',
        pre_hook="set local enable_nestloop = off",
        unique_key=['tenant_id', 'payment_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'payment_id'], 'unique': true},
            {'columns': ['last_loaded_at']},
            {'columns': ['changed_at']},
        ],
    )
}}

with

all_payments as not materialized (
    select * from {{ ref('stg_asaas__payments') }}
),

statement_lines as not materialized (
    select * from {{ ref('stg_asaas__financial_transactions') }}
),

transfers as materialized (
    select * from {{ ref('stg_asaas__transfers') }}
),

{% if is_incremental() -%}
{%- set loaded_since = reload_since('last_loaded_at') %}
lines_loaded as (
    select *
    from statement_lines
    where loaded_at >= {{ loaded_since }}
),

{#- TRANSFER lines that are new, or whose transfer's record is. #}
sweep_lines_changed as (
    select tenant_id, integration_id, transaction_date
    from lines_loaded
    where type = 'TRANSFER'
    union
    select statement_lines.tenant_id, statement_lines.integration_id, statement_lines.transaction_date
    from transfers
    inner join statement_lines
        on transfers.tenant_id = statement_lines.tenant_id
        and transfers.transfer_id = statement_lines.transfer_id
    where transfers.loaded_at >= {{ loaded_since }}
        and statement_lines.type = 'TRANSFER'
),

sweeps_changed as (
    select
        sweep_lines_changed.tenant_id,
        sweep_lines_changed.integration_id,
        (
            select max(earlier.transaction_date)
            from statement_lines as earlier
            where earlier.tenant_id = sweep_lines_changed.tenant_id
                and earlier.integration_id = sweep_lines_changed.integration_id
                and earlier.type = 'TRANSFER'
                and earlier.transaction_date < min(sweep_lines_changed.transaction_date)
        ) as credited_from
    from sweep_lines_changed
    group by sweep_lines_changed.tenant_id, sweep_lines_changed.integration_id
),

plans_grown as (
    select distinct tenant_id, installment_id
    from all_payments
    where loaded_at >= {{ loaded_since }}
        and installment_id is not null
),

payments_to_compute as (
    select tenant_id, payment_id
    from all_payments
    where loaded_at >= {{ loaded_since }}
    union
    select tenant_id, payment_id
    from lines_loaded
    where payment_id is not null
    union
    select all_payments.tenant_id, all_payments.payment_id
    from all_payments
    inner join plans_grown
        on all_payments.tenant_id = plans_grown.tenant_id
        and all_payments.installment_id = plans_grown.installment_id
    union
    select statement_lines.tenant_id, statement_lines.payment_id
    from sweeps_changed
    inner join statement_lines
        on sweeps_changed.tenant_id = statement_lines.tenant_id
        and sweeps_changed.integration_id = statement_lines.integration_id
        and statement_lines.transaction_date
            >= coalesce(sweeps_changed.credited_from, '-infinity'::date)
    where statement_lines.payment_id is not null
        and statement_lines.value > 0
),

payments as (
    select all_payments.*
    from all_payments
    inner join payments_to_compute
        on all_payments.tenant_id = payments_to_compute.tenant_id
        and all_payments.payment_id = payments_to_compute.payment_id
),

{% else -%}
payments as (
    select * from all_payments
),

{% endif -%}
payment_lines as (
    select statement_lines.*
    from statement_lines
    inner join payments
        on statement_lines.tenant_id = payments.tenant_id
        and statement_lines.payment_id = payments.payment_id
),

{#- Statement order: date, then a date's TRANSFER lines (a line without a type before them),
    then the rest, by line id. #}
credit_lines as (
    select distinct on (tenant_id, payment_id)
        tenant_id,
        integration_id,
        payment_id,
        financial_transaction_id,
        transaction_date,
        case when type is null then 0 when type = 'TRANSFER' then 1 else 2 end as type_rank,
        loaded_at
    from payment_lines
    where value > 0
    order by
        tenant_id,
        payment_id,
        transaction_date,
        case when type is null then 0 when type = 'TRANSFER' then 1 else 2 end,
        financial_transaction_id
),

{#- The first TRANSFER line after the credit line: a later date, or the same date when the
    credit line sorts before the day's TRANSFER lines (only a line without a type does). #}
sweeps as materialized (
    select
        credit_lines.tenant_id,
        credit_lines.payment_id,
        sweep_line.transfer_id,
        sweep_line.loaded_at
    from credit_lines
    cross join lateral (
        select transfer_lines.transfer_id, transfer_lines.loaded_at
        from statement_lines as transfer_lines
        where transfer_lines.tenant_id = credit_lines.tenant_id
            and transfer_lines.integration_id = credit_lines.integration_id
            and transfer_lines.type = 'TRANSFER'
            and transfer_lines.transaction_date >= credit_lines.transaction_date
            and (
                transfer_lines.transaction_date > credit_lines.transaction_date
                or credit_lines.type_rank = 0
                or (
                    credit_lines.type_rank = 1
                    and transfer_lines.financial_transaction_id
                        > credit_lines.financial_transaction_id
                )
            )
        order by transfer_lines.transaction_date, transfer_lines.financial_transaction_id
        limit 1
    ) as sweep_line
),

payment_transfers as (
    select
        sweeps.tenant_id,
        sweeps.payment_id,
        case
            when coalesce(transfers.status, '') not in ('CANCELLED', 'FAILED')
                then transfers.transfer_id
        end as transfer_id,
        greatest(sweeps.loaded_at, transfers.loaded_at) as last_loaded_at
    from sweeps
    inner join transfers
        on sweeps.tenant_id = transfers.tenant_id
        and sweeps.transfer_id = transfers.transfer_id
),

lines_loaded_per_payment as (
    select tenant_id, payment_id, max(loaded_at) as last_loaded_at
    from payment_lines
    group by tenant_id, payment_id
),

refund_lines as (
    select
        tenant_id,
        payment_id,
        min(transaction_date) as refunded_date
    from payment_lines
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
        all_payments.tenant_id,
        all_payments.installment_id,
        count(*) as installment_count
    from all_payments
    inner join (select distinct tenant_id, installment_id from payments) as plans
        on all_payments.tenant_id = plans.tenant_id
        and all_payments.installment_id = plans.installment_id
    group by all_payments.tenant_id, all_payments.installment_id
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
        coalesce(refunds_listed.refunds, '[]'::jsonb) as refunds,
        greatest(
            payments.loaded_at,
            lines_loaded_per_payment.last_loaded_at,
            payment_transfers.last_loaded_at
        ) as last_loaded_at
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
    left join lines_loaded_per_payment
        on payments.tenant_id = lines_loaded_per_payment.tenant_id
        and payments.payment_id = lines_loaded_per_payment.payment_id
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
        '[]'::jsonb as disputes,
        last_loaded_at,
        {{ build_time() }} as changed_at
    from mapped
)

select * from final
