{#
    Every gateway payout with its verdict against the bank credits, set-based and without
    guessing (docs/payment-reconciliation-rules.md, "Matching payouts to bank credits").

    Candidate credits of a payout: visible bank credits (dated before the as-of date) that
    the seed bank_credit_payers attributes to the payout's gateway (int_banking__platform_credits)
    into an account whose owner's tax number is one of the integration's payout_documents.

    1. Exact, same day: payouts and credits grouped by (account, gateway, date, amount to the
       cent), payouts on (D, A). A group with as many credits as payouts pairs them in order of
       payout id and bank transaction id (matched); with another number of credits its payouts
       are ambiguous. The group's credits are taken either way.
    2. Within tolerance, on or after D: for each payout left, the credits not taken dated ≥ D
       with |amount − A| ≤ value_tolerance. Exactly one candidate that no other payout left
       shares: matched; several, or a shared one: ambiguous. Every candidate is taken.
    3. No candidate: split (two distinct credits not taken, dated D..deadline, summing to A
       within tolerance), else short (a credit not taken dated D), else missing (deadline
       before as-of), else in_transit.

    Deadline = add_business_days(D, grace_days); a matched payout is on time when its credit
    is dated ≤ the deadline.

    Readings of the rules document where it leaves a choice (the lead settles them there):
    - a payout whose payout_documents name several accounts is grouped per account in step 1;
      if it falls in more than one group with credits it is ambiguous (never matched twice);
    - `payout_documents` may be a JSON array or one string of documents separated by commas,
      semicolons or spaces; documents are compared by their digits;
    - step 3's split and short use the credits left by steps 1 and 2 and take none (two
      payouts may both be `short` against one credit: each is a discrepancy to look at).

    Planning: the steps are CTEs over CTEs, whose row counts PostgreSQL cannot estimate (an equality
    of two columns, such as the same-day exact pairs, is estimated at one row); on one row it picks
    nested loops, and at 5,000 payments the model ran 150 s instead of 0.03 s. Every join here is an
    equality on keys of sets that fit in memory, so hash joins are always right: nested loops are off
    for this model's transaction only (`set local`). Merge joins too: with loops off PostgreSQL
    merged the step-3 anti-joins on the tenant alone and filtered millions of pairs (1M-payment
    benchmark: 10.3 s; hash joins only, and the deadline window's days computed before the join
    (`materialized`) instead of after pairing every payout with every credit of its account: 3.3 s).
#}
{{ config(pre_hook=["set local enable_nestloop = off", "set local enable_mergejoin = off"]) }}

with

payouts as (
    select * from {{ ref('int_payment_payouts') }}
),

platform_credits as (
    select * from {{ ref('int_banking__platform_credits') }}
),

integrations as (
    select * from {{ ref('stg_control__integrations') }}
),

tolerances as (
    select * from {{ ref('stg_control__tolerances') }}
),

calendar as (
    select * from {{ ref('int_calendar__business_days') }}
),

payout_documents as (
    select distinct
        integrations.integration_id,
        {{ digits_only('documents.document') }} as document
    from integrations
    cross join lateral jsonb_array_elements_text(
        case jsonb_typeof(integrations.external_ids -> 'payout_documents')
            when 'array' then integrations.external_ids -> 'payout_documents'
            when 'string' then to_jsonb(
                regexp_split_to_array(
                    trim(integrations.external_ids ->> 'payout_documents'), '[,;[:space:]]+'
                )
            )
            else '[]'::jsonb
        end
    ) as documents (document)
),

payouts_with_terms as (
    select
        payouts.*,
        cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2))
            as value_tolerance,
        {{ tenant_tolerance('grace_days') }} as grace_days,
        {{ as_of_date() }} as as_of_date
    from payouts
    left join tolerances
        on payouts.tenant_id = tolerances.tenant_id
),

payouts_with_deadlines as (
    select
        payouts_with_terms.*,
        case
            when payouts_with_terms.grace_days = 0 then payouts_with_terms.payout_date
            else deadline_day.date_day
        end as payout_deadline,
        payout_day.business_day_index as payout_day_index
    from payouts_with_terms
    left join calendar as payout_day
        on payouts_with_terms.payout_date = payout_day.date_day
    left join calendar as deadline_day
        on deadline_day.is_business_day
        and deadline_day.business_day_index
            = payout_day.business_day_index + payouts_with_terms.grace_days
),

visible_credits as (
    select *
    from platform_credits
    where posted_date < {{ as_of_date() }}
),

{#- Only the pairs some step can use: dated on or after D, and either within tolerance
    (steps 1 and 2) or by the deadline (step 3). Each kind is found by an equality join, so
    the work grows with the pairs found, not with (payouts × later credits) of an account:
    - within tolerance: amounts are cut into buckets as wide as the tenant's value tolerance
      (a cent at least); a credit within tolerance of A lies in A's bucket or a neighbour;
    - by the deadline: each payout is spread over its days D..deadline and joined by date. #}
credit_buckets as (
    select
        visible_credits.*,
        floor(
            visible_credits.amount
            / greatest(cast({{ tenant_tolerance('value_tolerance') }} as numeric(18, 2)), 0.01)
        ) as amount_bucket
    from visible_credits
    left join tolerances
        on visible_credits.tenant_id = tolerances.tenant_id
),

payout_accounts as (
    select
        payouts_with_deadlines.tenant_id,
        payouts_with_deadlines.platform,
        payouts_with_deadlines.payout_id,
        payouts_with_deadlines.payout_amount,
        payouts_with_deadlines.payout_date,
        payouts_with_deadlines.payout_deadline,
        payouts_with_deadlines.value_tolerance,
        payout_documents.document,
        floor(
            payouts_with_deadlines.payout_amount
            / greatest(payouts_with_deadlines.value_tolerance, 0.01)
        ) as amount_bucket
    from payouts_with_deadlines
    inner join payout_documents
        on payouts_with_deadlines.integration_id = payout_documents.integration_id
),

payout_buckets as (
    select
        payout_accounts.*,
        payout_accounts.amount_bucket + neighbours.step as candidate_bucket
    from payout_accounts
    cross join (values (-1), (0), (1)) as neighbours (step)
),

payout_days as materialized (
    select
        payout_accounts.*,
        cast(days.day as date) as candidate_date
    from payout_accounts
    cross join lateral generate_series(
        payout_accounts.payout_date, payout_accounts.payout_deadline, interval '1 day'
    ) as days (day)
),

tolerance_candidates as (
    select
        payout_buckets.tenant_id,
        payout_buckets.platform,
        payout_buckets.payout_id,
        payout_buckets.payout_amount,
        payout_buckets.payout_date,
        payout_buckets.payout_deadline,
        payout_buckets.value_tolerance,
        credit_buckets.transaction_id,
        credit_buckets.account_id,
        credit_buckets.amount,
        credit_buckets.posted_date
    from payout_buckets
    inner join credit_buckets
        on payout_buckets.tenant_id = credit_buckets.tenant_id
        and payout_buckets.platform = credit_buckets.platform
        and payout_buckets.document = credit_buckets.account_tax_number
        and payout_buckets.candidate_bucket = credit_buckets.amount_bucket
    where credit_buckets.posted_date >= payout_buckets.payout_date
        and abs(credit_buckets.amount - payout_buckets.payout_amount)
            <= payout_buckets.value_tolerance
),

deadline_candidates as (
    select
        payout_days.tenant_id,
        payout_days.platform,
        payout_days.payout_id,
        payout_days.payout_amount,
        payout_days.payout_date,
        payout_days.payout_deadline,
        payout_days.value_tolerance,
        visible_credits.transaction_id,
        visible_credits.account_id,
        visible_credits.amount,
        visible_credits.posted_date
    from payout_days
    inner join visible_credits
        on payout_days.tenant_id = visible_credits.tenant_id
        and payout_days.platform = visible_credits.platform
        and payout_days.document = visible_credits.account_tax_number
        and payout_days.candidate_date = visible_credits.posted_date
),

{#- `union` (not `union all`): a pair found both ways is one pair. #}
candidate_pairs as (
    select * from tolerance_candidates
    union
    select * from deadline_candidates
),

{#- Step 1: exact, same day, grouped by (account, gateway, date, amount). #}
exact_pairs as (
    select *
    from candidate_pairs
    where posted_date = payout_date
        and amount = payout_amount
),

exact_groups as (
    select
        tenant_id,
        platform,
        account_id,
        payout_date,
        payout_amount,
        count(distinct payout_id) as group_payouts,
        count(distinct transaction_id) as group_credits
    from exact_pairs
    group by tenant_id, platform, account_id, payout_date, payout_amount
),

exact_payouts as (
    select
        tenant_id,
        platform,
        payout_id,
        count(distinct account_id) as group_count
    from exact_pairs
    group by tenant_id, platform, payout_id
),

exact_ranked as (
    select
        exact_pairs.*,
        exact_groups.group_payouts,
        exact_groups.group_credits,
        dense_rank() over (
            partition by
                exact_pairs.tenant_id, exact_pairs.platform, exact_pairs.account_id,
                exact_pairs.payout_date, exact_pairs.payout_amount
            order by exact_pairs.payout_id
        ) as payout_rank,
        dense_rank() over (
            partition by
                exact_pairs.tenant_id, exact_pairs.platform, exact_pairs.account_id,
                exact_pairs.payout_date, exact_pairs.payout_amount
            order by exact_pairs.transaction_id
        ) as credit_rank
    from exact_pairs
    inner join exact_groups
        on exact_pairs.tenant_id = exact_groups.tenant_id
        and exact_pairs.platform = exact_groups.platform
        and exact_pairs.account_id = exact_groups.account_id
        and exact_pairs.payout_date = exact_groups.payout_date
        and exact_pairs.payout_amount = exact_groups.payout_amount
),

exact_matches as (
    select exact_ranked.*
    from exact_ranked
    inner join exact_payouts
        on exact_ranked.tenant_id = exact_payouts.tenant_id
        and exact_ranked.platform = exact_payouts.platform
        and exact_ranked.payout_id = exact_payouts.payout_id
    where exact_payouts.group_count = 1
        and exact_ranked.group_payouts = exact_ranked.group_credits
        and exact_ranked.payout_rank = exact_ranked.credit_rank
),

exact_taken as (
    select distinct tenant_id, transaction_id
    from exact_pairs
),

step_1_verdicts as (
    select
        exact_payouts.tenant_id,
        exact_payouts.platform,
        exact_payouts.payout_id,
        1 as match_step,
        case
            when exact_matches.payout_id is not null then 'matched'
            else 'ambiguous'
        end as match_status,
        exact_matches.transaction_id
    from exact_payouts
    left join exact_matches
        on exact_payouts.tenant_id = exact_matches.tenant_id
        and exact_payouts.platform = exact_matches.platform
        and exact_payouts.payout_id = exact_matches.payout_id
),

{#- Step 2: within tolerance, on or after D, among what step 1 left. #}
tolerance_pairs as (
    select candidate_pairs.*
    from candidate_pairs
    left join exact_payouts
        on candidate_pairs.tenant_id = exact_payouts.tenant_id
        and candidate_pairs.platform = exact_payouts.platform
        and candidate_pairs.payout_id = exact_payouts.payout_id
    left join exact_taken
        on candidate_pairs.tenant_id = exact_taken.tenant_id
        and candidate_pairs.transaction_id = exact_taken.transaction_id
    where exact_payouts.payout_id is null
        and exact_taken.transaction_id is null
        and abs(candidate_pairs.amount - candidate_pairs.payout_amount)
            <= candidate_pairs.value_tolerance
),

tolerance_payouts as (
    select
        tenant_id,
        platform,
        payout_id,
        count(*) as candidate_count,
        min(transaction_id) as transaction_id
    from tolerance_pairs
    group by tenant_id, platform, payout_id
),

tolerance_credits as (
    select
        tenant_id,
        transaction_id,
        count(*) as payout_count
    from tolerance_pairs
    group by tenant_id, transaction_id
),

step_2_verdicts as (
    select
        tolerance_payouts.tenant_id,
        tolerance_payouts.platform,
        tolerance_payouts.payout_id,
        2 as match_step,
        case
            when tolerance_payouts.candidate_count = 1
                and tolerance_credits.payout_count = 1
                then 'matched'
            else 'ambiguous'
        end as match_status,
        case
            when tolerance_payouts.candidate_count = 1
                and tolerance_credits.payout_count = 1
                then tolerance_payouts.transaction_id
        end as transaction_id
    from tolerance_payouts
    inner join tolerance_credits
        on tolerance_payouts.tenant_id = tolerance_credits.tenant_id
        and tolerance_payouts.transaction_id = tolerance_credits.transaction_id
),

{#- Step 3: no candidate. Credits left by steps 1 and 2, none taken here. #}
free_pairs as (
    select candidate_pairs.*
    from candidate_pairs
    left join exact_payouts
        on candidate_pairs.tenant_id = exact_payouts.tenant_id
        and candidate_pairs.platform = exact_payouts.platform
        and candidate_pairs.payout_id = exact_payouts.payout_id
    left join tolerance_payouts
        on candidate_pairs.tenant_id = tolerance_payouts.tenant_id
        and candidate_pairs.platform = tolerance_payouts.platform
        and candidate_pairs.payout_id = tolerance_payouts.payout_id
    left join exact_taken
        on candidate_pairs.tenant_id = exact_taken.tenant_id
        and candidate_pairs.transaction_id = exact_taken.transaction_id
    left join tolerance_credits
        on candidate_pairs.tenant_id = tolerance_credits.tenant_id
        and candidate_pairs.transaction_id = tolerance_credits.transaction_id
    where exact_payouts.payout_id is null
        and tolerance_payouts.payout_id is null
        and exact_taken.transaction_id is null
        and tolerance_credits.transaction_id is null
        and candidate_pairs.posted_date <= candidate_pairs.payout_deadline
),

split_pairs as (
    select
        first_part.tenant_id,
        first_part.platform,
        first_part.payout_id,
        first_part.transaction_id as first_transaction_id,
        second_part.transaction_id as second_transaction_id
    from free_pairs as first_part
    inner join free_pairs as second_part
        on first_part.tenant_id = second_part.tenant_id
        and first_part.platform = second_part.platform
        and first_part.payout_id = second_part.payout_id
        and first_part.transaction_id < second_part.transaction_id
    where abs(first_part.amount + second_part.amount - first_part.payout_amount)
        <= first_part.value_tolerance
),

split_payouts as (
    select distinct tenant_id, platform, payout_id
    from split_pairs
),

short_payouts as (
    select distinct tenant_id, platform, payout_id
    from free_pairs
    where posted_date = payout_date
),

{#- Every credit the payout's verdict rests on, for the evidence. #}
evidence_pairs as (
    select tenant_id, platform, payout_id, transaction_id, 1 as step, 'same_day_group' as role
    from exact_pairs
    union all
    select tenant_id, platform, payout_id, transaction_id, 2 as step, 'within_tolerance' as role
    from tolerance_pairs
    union all
    select tenant_id, platform, payout_id, first_transaction_id, 3 as step, 'split_part' as role
    from split_pairs
    union all
    select tenant_id, platform, payout_id, second_transaction_id, 3 as step, 'split_part' as role
    from split_pairs
    union all
    select free_pairs.tenant_id, free_pairs.platform, free_pairs.payout_id, free_pairs.transaction_id,
        3 as step, 'dated_d' as role
    from free_pairs
    left join split_payouts
        on free_pairs.tenant_id = split_payouts.tenant_id
        and free_pairs.platform = split_payouts.platform
        and free_pairs.payout_id = split_payouts.payout_id
    where free_pairs.posted_date = free_pairs.payout_date
        and split_payouts.payout_id is null
),

evidence_summarised as (
    select
        evidence.tenant_id,
        evidence.platform,
        evidence.payout_id,
        jsonb_agg(
            jsonb_build_object(
                'bank_transaction_id', evidence.transaction_id,
                'posted_date', visible_credits.posted_date,
                'amount', visible_credits.amount,
                'account_id', visible_credits.account_id,
                'step', evidence.step,
                'role', evidence.role
            )
            order by visible_credits.posted_date, evidence.transaction_id
        ) as candidate_credits
    from (
        select distinct tenant_id, platform, payout_id, transaction_id, step, role
        from evidence_pairs
    ) as evidence
    inner join visible_credits
        on evidence.tenant_id = visible_credits.tenant_id
        and evidence.transaction_id = visible_credits.transaction_id
    group by evidence.tenant_id, evidence.platform, evidence.payout_id
),

verdicts as (
    select
        payouts_with_deadlines.*,
        coalesce(step_1_verdicts.match_step, step_2_verdicts.match_step, 3) as match_step,
        coalesce(
            step_1_verdicts.match_status,
            step_2_verdicts.match_status,
            case
                when split_payouts.payout_id is not null then 'split'
                when short_payouts.payout_id is not null then 'short'
                when payouts_with_deadlines.payout_deadline < payouts_with_deadlines.as_of_date
                    then 'missing'
                else 'in_transit'
            end
        ) as match_status,
        coalesce(step_1_verdicts.transaction_id, step_2_verdicts.transaction_id)
            as bank_transaction_id
    from payouts_with_deadlines
    left join step_1_verdicts
        on payouts_with_deadlines.tenant_id = step_1_verdicts.tenant_id
        and payouts_with_deadlines.platform = step_1_verdicts.platform
        and payouts_with_deadlines.payout_id = step_1_verdicts.payout_id
    left join step_2_verdicts
        on payouts_with_deadlines.tenant_id = step_2_verdicts.tenant_id
        and payouts_with_deadlines.platform = step_2_verdicts.platform
        and payouts_with_deadlines.payout_id = step_2_verdicts.payout_id
    left join split_payouts
        on payouts_with_deadlines.tenant_id = split_payouts.tenant_id
        and payouts_with_deadlines.platform = split_payouts.platform
        and payouts_with_deadlines.payout_id = split_payouts.payout_id
    left join short_payouts
        on payouts_with_deadlines.tenant_id = short_payouts.tenant_id
        and payouts_with_deadlines.platform = short_payouts.platform
        and payouts_with_deadlines.payout_id = short_payouts.payout_id
),

final as (
    select
        verdicts.payout_id,
        verdicts.tenant_id,
        verdicts.platform,
        verdicts.integration_id,
        verdicts.payout_amount,
        verdicts.payout_date,
        verdicts.payout_deadline,
        verdicts.payment_count,
        verdicts.match_step,
        verdicts.match_status,
        verdicts.bank_transaction_id,
        matched_credits.posted_date as bank_credit_date,
        matched_credits.amount as bank_credit_amount,
        case
            when verdicts.match_status = 'matched'
                then matched_credits.posted_date <= verdicts.payout_deadline
        end as is_on_time,
        case
            when verdicts.match_status = 'matched'
                and matched_credits.posted_date > verdicts.payout_deadline
                then credit_day.business_day_index - verdicts.payout_day_index
        end as days_late,
        coalesce(evidence_summarised.candidate_credits, '[]'::jsonb) as candidate_credits,
        verdicts.value_tolerance,
        verdicts.grace_days,
        verdicts.as_of_date
    from verdicts
    left join visible_credits as matched_credits
        on verdicts.tenant_id = matched_credits.tenant_id
        and verdicts.bank_transaction_id = matched_credits.transaction_id
    left join calendar as credit_day
        on matched_credits.posted_date = credit_day.date_day
    left join evidence_summarised
        on verdicts.tenant_id = evidence_summarised.tenant_id
        and verdicts.platform = evidence_summarised.platform
        and verdicts.payout_id = evidence_summarised.payout_id
)

select * from final
