{#
    The mart rows the latest build evaluated for the current as-of date: the snapshot's
    input. A daily incremental build re-evaluates only the orders whose status could have
    changed, so the snapshot compares those instead of every order ever sold; rows absent
    here keep their current snapshot version (hard_deletes: ignore). After a full refresh
    every row is here. A view, and downstream of the mart, because it exists only to feed
    the snapshot.
#}
{{ config(materialized='view') }}

with

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

evaluated_now as (
    select
        tenant_id,
        merchant_id,
        order_id,
        status,
        divergence_reason,
        expected_net_amount,
        paid_amount,
        paid_date,
        as_of_date
    from reconciliation
    where as_of_date = {{ as_of_date() }}
)

select * from evaluated_now
