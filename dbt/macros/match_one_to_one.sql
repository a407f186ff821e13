{#
    One-to-one matching between two sides (e.g. payout batches and bank credits) over a
    CTE of candidate pairs, set-based, as a chain of CTEs.

    Every pair is ordered by the same global key (`order_by`, which must end with both
    sides' keys so it is total). In each round, a pair is accepted when it ranks first for
    its left row AND for its right row among the pairs still open; accepted rows leave the
    pool and the next round re-ranks what is left. The globally best open pair is always
    accepted, so the rounds converge to the greedy assignment in that order; a few rounds
    settle all but pathological chains of near-identical amounts.

    Emits CTEs `<prefix>_round_<n>_remaining`, `_ranked`, `_accepted` and finally
    `<prefix>_matches` (all candidate columns plus left_rank / right_rank). The caller writes
    the comma after it.

    candidates: name of the CTE holding candidate pairs
    prefix:     name prefix for the generated CTEs
    left_key:   list of columns identifying a left row
    right_key:  list of columns identifying a right row
    order_by:   ordering of pairs, best first
    rounds:     number of passes (default var('payout_match_rounds'))
#}
{% macro match_one_to_one(candidates, prefix, left_key, right_key, order_by, rounds=none) -%}
    {%- set rounds = (rounds if rounds is not none else var('payout_match_rounds', 3)) | int -%}
    {%- for round in range(1, rounds + 1) -%}
        {%- set this_round = prefix ~ '_round_' ~ round -%}
        {%- set last_round = prefix ~ '_round_' ~ (round - 1) %}
{{ this_round }}_remaining as (
        {%- if round == 1 %}
    select * from {{ candidates }}
        {%- else %}
    select pairs.*
    from {{ last_round }}_remaining as pairs
    left join {{ last_round }}_accepted as left_taken
        on {% for column in left_key -%}
        {%- if not loop.first %}
        and {% endif -%}
        pairs.{{ column }} = left_taken.{{ column }}
        {%- endfor %}
    left join {{ last_round }}_accepted as right_taken
        on {% for column in right_key -%}
        {%- if not loop.first %}
        and {% endif -%}
        pairs.{{ column }} = right_taken.{{ column }}
        {%- endfor %}
    where left_taken.{{ left_key[0] }} is null
        and right_taken.{{ right_key[0] }} is null
        {%- endif %}
),

{{ this_round }}_ranked as (
    select
        *,
        row_number() over (
            partition by {{ left_key | join(', ') }}
            order by {{ order_by }}
        ) as left_rank,
        row_number() over (
            partition by {{ right_key | join(', ') }}
            order by {{ order_by }}
        ) as right_rank
    from {{ this_round }}_remaining
),

{{ this_round }}_accepted as (
    select *
    from {{ this_round }}_ranked
    where left_rank = 1
        and right_rank = 1
),
{% endfor %}
{{ prefix }}_matches as (
    {%- for round in range(1, rounds + 1) %}
    select * from {{ prefix }}_round_{{ round }}_accepted
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
)
{%- endmacro %}
