{#
    How each order moved between statuses: one row per change seen by a build, including
    its first appearance (from_status null). Reads the snapshot, so history starts when the
    project started snapshotting, and a backfill of an older day after newer days would
    show as a change back; run backfills in date order.

    Incremental: a build adds the changes newer than the last one it holds, reading the
    full version history of only the orders that changed.
#}
{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'order_id', 'changed_at'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'order_id', 'changed_at'], 'unique': true},
            {'columns': ['changed_at']},
        ],
    )
}}

with

status_versions as (
    select * from {{ ref('snap_ifood_order_status') }}
),

{% if is_incremental() -%}
orders_changed as (
    select distinct tenant_id, order_id
    from status_versions
    where dbt_valid_from > (
        select coalesce(max(changed_at), '-infinity'::timestamp) from {{ this }}
    )
),

versions_in_scope as (
    select status_versions.*
    from status_versions
    inner join orders_changed
        on status_versions.tenant_id = orders_changed.tenant_id
        and status_versions.order_id = orders_changed.order_id
),
{%- else -%}
versions_in_scope as (
    select * from status_versions
),
{%- endif %}

versions_ordered as (
    select
        tenant_id,
        merchant_id,
        order_id,
        lag(status) over order_versions as from_status,
        status as to_status,
        lag(divergence_reason) over order_versions as from_reason,
        divergence_reason as to_reason,
        lag(paid_amount) over order_versions as from_paid_amount,
        paid_amount as to_paid_amount,
        as_of_date,
        dbt_valid_from as changed_at
    from versions_in_scope
    window order_versions as (
        partition by tenant_id, order_id
        order by dbt_valid_from
    )
),

transitions as (
    select *
    from versions_ordered
    where from_status is null
        or from_status <> to_status
        or from_reason is distinct from to_reason
        or from_paid_amount is distinct from to_paid_amount
)

select * from transitions
