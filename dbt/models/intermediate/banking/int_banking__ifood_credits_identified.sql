{#
    Bank credits that are iFood payouts, tied to the iFood merchant whose CNPJ owns the
    receiving account. A credit is iFood's when the payer's CNPJ is iFood's or, for banks
    that send no payer data, when the description names iFood. Pending transactions are
    left out until they post.
#}
{%- set ifood_cnpj = modules.re.sub('[^0-9]', '', var('ifood_payer_cnpj') | string) %}

with

transactions as (
    select * from {{ ref('stg_pluggy__transactions') }}
),

accounts as (
    select * from {{ ref('stg_pluggy__accounts') }}
),

sales as (
    select * from {{ ref('stg_ifood__sales') }}
),

merchant_documents as (
    select distinct
        tenant_id,
        merchant_id,
        merchant_document
    from sales
    where merchant_document is not null
),

ifood_credits as (
    select
        *,
        coalesce(payer_document = '{{ ifood_cnpj }}', false) as is_payer_ifood
    from transactions
    where is_credit
        and status = 'POSTED'
        and (
            payer_document = '{{ ifood_cnpj }}'
            or description ilike '%ifood%'
        )
),

credits_tied_to_merchants as (
    select
        ifood_credits.transaction_id,
        ifood_credits.tenant_id,
        merchant_documents.merchant_id,
        ifood_credits.account_id,
        accounts.tax_number as account_tax_number,
        ifood_credits.description,
        ifood_credits.payer_document,
        ifood_credits.payment_method,
        ifood_credits.amount,
        ifood_credits.is_payer_ifood,
        ifood_credits.posted_date,
        ifood_credits.created_at
    from ifood_credits
    inner join accounts
        on ifood_credits.tenant_id = accounts.tenant_id
        and ifood_credits.account_id = accounts.account_id
    inner join merchant_documents
        on accounts.tenant_id = merchant_documents.tenant_id
        and accounts.tax_number = merchant_documents.merchant_document
)

select * from credits_tied_to_merchants
