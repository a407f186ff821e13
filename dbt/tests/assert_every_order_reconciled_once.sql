{#
    The mart holds exactly the orders seen in sales or referenced by financial events
    (int_ifood__orders_netted has one row per order referenced by events): none lost,
    none invented.
#}
with

sales as (
    select * from {{ ref('stg_ifood__sales') }}
),

orders_netted as (
    select * from {{ ref('int_ifood__orders_netted') }}
),

reconciliation as (
    select * from {{ ref('fct_ifood_order_reconciliation') }}
),

orders_seen as (
    select tenant_id, order_id from sales
    union
    select tenant_id, order_id from orders_netted
),

missing_from_mart as (
    select
        orders_seen.tenant_id,
        orders_seen.order_id,
        'missing from mart' as problem
    from orders_seen
    left join reconciliation
        on orders_seen.tenant_id = reconciliation.tenant_id
        and orders_seen.order_id = reconciliation.order_id
    where reconciliation.order_id is null
),

unknown_in_mart as (
    select
        reconciliation.tenant_id,
        reconciliation.order_id,
        'not a known order' as problem
    from reconciliation
    left join orders_seen
        on reconciliation.tenant_id = orders_seen.tenant_id
        and reconciliation.order_id = orders_seen.order_id
    where orders_seen.order_id is null
),

problems as (
    select * from missing_from_mart
    union all
    select * from unknown_in_mart
)

select * from problems
