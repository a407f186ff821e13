{#
    Which rows a generic data test reads. dbt's default is the whole relation, filtered by
    the test's `where` config. One extra value, `where: latest_build`, set for the staging,
    intermediate and mart folders in dbt_project.yml, scopes a test on a large incremental
    relation to what the latest build wrote:

    - a relation with `changed_at` (the gateway payment models): the rows the latest build
      wrote (changed_at = its newest value, one value per build);
    - a relation with `as_of_date` (the iFood mart): the rows evaluated as of the newest date;
    - else one with `loaded_at` / `last_loaded_at` (staging, raw sources, orders_netted): the
      rows loaded within var('staging_reload_hours') of the newest;
    - else the whole relation (small tables).

    After a full refresh that is every row; after a daily incremental build, the day's rows,
    so a daily run does not rescan the whole history (dbt/DECISIONLOG.md). Uniqueness of the
    incremental models' keys does not depend on this: unique indexes enforce it on write.
#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') -%}
    {%- if where == 'latest_build' and not execute -%}
        {%- set where = none -%}
    {%- elif where == 'latest_build' -%}
        {%- set columns = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
        {%- if 'changed_at' in columns -%}
            {%- set newest = run_query('select cast(max(changed_at) as text) from ' ~ relation).columns[0].values()[0] -%}
            {%- set where = "changed_at = '" ~ newest ~ "'::timestamptz" if newest else none -%}
        {%- elif 'as_of_date' in columns -%}
            {%- set newest = run_query('select cast(max(as_of_date) as text) from ' ~ relation).columns[0].values()[0] -%}
            {%- set where = "as_of_date = '" ~ newest ~ "'::date" if newest else none -%}
        {%- elif 'loaded_at' in columns or 'last_loaded_at' in columns -%}
            {%- set column = 'loaded_at' if 'loaded_at' in columns else 'last_loaded_at' -%}
            {%- set newest = newest_minus_reload_margin(relation, column) -%}
            {#- A literal, not a subquery: the planner then sees how few rows qualify. -#}
            {%- set where = column ~ " >= '" ~ newest ~ "'::timestamptz" if newest else none -%}
        {%- else -%}
            {%- set where = none -%}
        {%- endif -%}
    {%- endif -%}
    {%- if where -%}
        (select * from {{ relation }} where {{ where }}) dbt_subquery
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}
