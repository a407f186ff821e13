{#
    The latest version of each record in a CTE read from a raw table.

    Raw tables keep every version of a record (same external id, new payload hash); the
    latest is the one loaded last, ties broken by the greater payload hash so the pick is
    deterministic. Call it on a CTE whose jsonb has already been extracted: sorting narrow
    rows is far cheaper than sorting payloads.

    relation:      the CTE (or relation) to read; must carry loaded_at and payload_hash
    partition_by:  the record key, e.g. 'tenant_id, order_id'
#}
{% macro deduplicate_latest_version(relation, partition_by) -%}
    select distinct on ({{ partition_by }}) *
    from {{ relation }}
    order by {{ partition_by }}, loaded_at desc, payload_hash desc
{%- endmacro %}
