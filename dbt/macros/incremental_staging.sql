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
