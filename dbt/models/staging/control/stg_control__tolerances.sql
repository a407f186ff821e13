{#
    Per-tenant tolerances with the project defaults filled in, one row per tenant that has
    an override. Tenants without a row use the vars; consumers left join and coalesce with
    the `tenant_tolerance` macro so both cases read the same.
#}
with

source as (
    select * from {{ source('control', 'tolerances') }}
),

defaults_applied as (
    select
        tenant_id,
        cast(
            coalesce(value_tolerance, {{ var('value_tolerance') }})
            as numeric(18, 2)
        ) as value_tolerance,
        coalesce(grace_days, {{ var('grace_days') }}) as grace_days,
        coalesce(
            missing_from_conciliation_days,
            {{ var('missing_from_conciliation_days') }}
        ) as missing_from_conciliation_days,
        {#- The gateways' fee audit and split comparison (payment-reconciliation-rules.md). #}
        cast(
            coalesce(fee_tolerance, {{ var('fee_tolerance') }}) as numeric(18, 2)
        ) as fee_tolerance,
        cast(
            coalesce(split_tolerance, {{ var('split_tolerance') }}) as numeric(18, 2)
        ) as split_tolerance,
        note,
        updated_by,
        updated_at
    from source
)

select * from defaults_applied
