{#
    Posted bank credits and the platform that paid them, by the editable seed
    bank_credit_payers: a credit is a platform's when the payer's document is the platform's
    or, for banks that send no payer data, when the description matches the platform's
    pattern. The payer's document wins over the description; a description that matches
    several platforms' patterns is left unassigned rather than guessed. Pending transactions
    wait until they post. A platform joins by adding a seed row, not a var or a model.
#}

with

transactions as (
    select * from {{ ref('stg_pluggy__transactions') }}
),

accounts as (
    select * from {{ ref('stg_pluggy__accounts') }}
),

payers as (
    select * from {{ ref('bank_credit_payers') }}
),

posted_credits as (
    select *
    from transactions
    where is_credit
        and status = 'POSTED'
),

by_payer_document as (
    select
        posted_credits.transaction_id,
        posted_credits.tenant_id,
        min(payers.platform) as platform,
        count(distinct payers.platform) as platforms
    from posted_credits
    inner join payers
        on posted_credits.payer_document = {{ digits_only('payers.payer_document') }}
    group by posted_credits.transaction_id, posted_credits.tenant_id
),

by_description as (
    select
        posted_credits.transaction_id,
        posted_credits.tenant_id,
        min(payers.platform) as platform,
        count(distinct payers.platform) as platforms
    from posted_credits
    inner join payers
        on payers.description_pattern is not null
        and posted_credits.description ilike payers.description_pattern
    group by posted_credits.transaction_id, posted_credits.tenant_id
),

identified as (
    select
        posted_credits.transaction_id,
        posted_credits.tenant_id,
        posted_credits.account_id,
        accounts.tax_number as account_tax_number,
        posted_credits.description,
        posted_credits.payer_document,
        posted_credits.payment_method,
        posted_credits.amount,
        posted_credits.posted_date,
        posted_credits.created_at,
        case
            when by_payer_document.platforms = 1 then by_payer_document.platform
            when by_payer_document.platforms is null and by_description.platforms = 1 then by_description.platform
        end as platform,
        case
            when by_payer_document.platforms = 1 then 'payer_document'
            when by_payer_document.platforms is null and by_description.platforms = 1 then 'description'
        end as identified_by
    from posted_credits
    inner join accounts
        on posted_credits.tenant_id = accounts.tenant_id
        and posted_credits.account_id = accounts.account_id
    left join by_payer_document
        on posted_credits.tenant_id = by_payer_document.tenant_id
        and posted_credits.transaction_id = by_payer_document.transaction_id
    left join by_description
        on posted_credits.tenant_id = by_description.tenant_id
        and posted_credits.transaction_id = by_description.transaction_id
    where by_payer_document.transaction_id is not null
        or by_description.transaction_id is not null
)

select * from identified
where platform is not null
