{#
    Fails for every combination of `combination_of_columns` that occurs more than once.
    Usage (model level):
        data_tests:
          - unique_combination_of_columns:
              arguments:
                combination_of_columns: [tenant_id, order_id]
#}
{% test unique_combination_of_columns(model, combination_of_columns) %}

with

combinations_counted as (
    select
        {{ combination_of_columns | join(',\n        ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
),

duplicates as (
    select *
    from combinations_counted
    where occurrences > 1
)

select * from duplicates

{% endtest %}
