{#
    Incremental staging for the large raw tables (sales, financial events, report lines,
    bank transactions). A full refresh deduplicates every version of every record; a daily
    run must not, so an incremental build reads only what was loaded since the newest row
    it already holds (minus var('staging_reload_hours'), so a load that committed late,
    with an older loaded_at, is still picked up) and replaces a record only by a newer
    version. The result equals a full refresh: the latest version of each record.
#}

{#- The newest `column` of `relation` minus var('staging_reload_hours'), as text (none when
    the relation is empty). One query, shared by the incremental models and by the test scope
    in get_where_subquery, so both mean the same by "what the latest build wrote". #}
{% macro newest_minus_reload_margin(relation, column) -%}
    {%- set query -%}
        select cast(max({{ column }}) - interval '{{ var("staging_reload_hours") }} hours' as text)
        from {{ relation }}
    {%- endset -%}
    {{- return(run_query(query).columns[0].values()[0]) -}}
{%- endmacro %}

{#- The newest load this model holds, minus the reload margin, as a timestamptz literal.
    Read once, before the model's SQL is sent: compared with a literal, PostgreSQL estimates
    from its statistics that only the day's rows qualify and uses the loaded_at indexes; a
    subquery there is planned as "a third of the table" and scans everything. Models that
    compare several columns with it set it once: {% set since = reload_since(...) %}. #}
{% macro reload_since(column='loaded_at') -%}
    {%- set newest = newest_minus_reload_margin(this, column) if execute and is_incremental() else none -%}
    {%- if newest -%}
        '{{ newest }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- The `where` for the source CTE: everything on a full build, recent loads otherwise. #}
{% macro loaded_since_last_build() -%}
    {%- if is_incremental() %}
    where loaded_at >= {{ reload_since() }}
    {%- endif %}
{%- endmacro %}

{#- Rows of `relation` (already deduplicated) that are not older than the staged version. #}
{% macro newer_than_staged(relation, key_columns) -%}
    select {{ relation }}.*
    from {{ relation }}
    {%- if is_incremental() %}
    left join {{ this }} as staged
        on {% for column in key_columns -%}
        {%- if not loop.first %}
        and {% endif -%}
        {{ relation }}.{{ column }} = staged.{{ column }}
        {%- endfor %}
    where staged.{{ key_columns[0] }} is null
        or ({{ relation }}.loaded_at, {{ relation }}.payload_hash)
            >= (staged.loaded_at, staged.payload_hash)
    {%- endif %}
{%- endmacro %}

{#- The newest `changed_at` this model holds, as a timestamptz literal ('-infinity' on a full
    build or when empty). `changed_at` is when the build that last wrote a row ran
    (build_time()); a model downstream of an incremental one reads the upstream rows changed
    after its own newest row: those were written by a later build than any it has seen. Read
    once before the model's SQL, like reload_since, so the planner sees a literal. #}
{% macro changed_since(column='changed_at') -%}
    {%- set newest = none -%}
    {%- if execute and is_incremental() -%}
        {%- set query -%}
            select cast(max({{ column }}) as text) from {{ this }}
        {%- endset -%}
        {%- set newest = run_query(query).columns[0].values()[0] -%}
    {%- endif -%}
    {%- if newest -%}
        '{{ newest }}'::timestamptz
    {%- else -%}
        '-infinity'::timestamptz
    {%- endif -%}
{%- endmacro %}

{#- When the build writing a row ran: the start of the model's transaction, one value for
    every row one build of one model writes. Stored as `changed_at`. #}
{% macro build_time() -%}
    transaction_timestamp()
{%- endmacro %}

{#- One row per tenant of `relation` (a control table's CTE) with the md5 of its rows in a
    fixed order: an edit, a new row or a deleted one changes it. A model that applies a
    control table stores its tenant's fingerprint on each row; a tenant whose stored value
    differs from the current one (null: no rows any more) has its rows recomputed. #}
{% macro tenant_fingerprints(relation, order_by) -%}
    select
        control_rows.tenant_id,
        md5(string_agg(cast(control_rows as text), '|' order by {{ order_by }})) as fingerprint
    from {{ relation }} as control_rows
    group by control_rows.tenant_id
{%- endmacro %}

{#- The distinct tenant_id of `relation` by a walk of its (tenant_id, ...) index, one probe
    per tenant, instead of reading every row. #}
{% macro tenants_of(relation) -%}
    (
        with recursive walked as (
            select min(tenant_id) as tenant_id from {{ relation }}
            union all
            select (
                select min(later.tenant_id)
                from {{ relation }} as later
                where later.tenant_id > walked.tenant_id
            )
            from walked
            where walked.tenant_id is not null
        )
        select tenant_id from walked where tenant_id is not null
    )
{%- endmacro %}
