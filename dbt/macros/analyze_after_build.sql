{#
    The project-wide post-hook: analyze what a model just built (dbt never does, and the next
    model in the same build would be planned without statistics). Views have none to gather.
    An incremental build of a model whose meta says `analyze_incremental: false` skips it: the
    gateway payment models change a few percent of their rows a day, and sampling 30k rows of
    each was a third of their daily build's SQL time (dbt/DECISIONLOG.md, entry 47). A macro,
    not inline Jinja, so a model's unit tests need no is_incremental override for it.
#}
{% macro analyze_after_build() -%}
    {%- set skip = model.config.materialized == 'view'
        or (is_incremental() and model.config.get('meta', {}).get('analyze_incremental', true) == false) -%}
    {%- if not skip -%}
        analyze {{ this }}
    {%- endif -%}
{%- endmacro %}
