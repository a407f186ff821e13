{#
    Bank credits that are iFood payouts (platform 'ifood' in int_banking__platform_credits,
    by the payer seed), tied to the iFood merchant whose CNPJ owns the receiving account. A
    CNPJ shared by several stores yields one row per store; the matching still lets a credit
    pay at most one batch.
#}

with

platform_credits as (
    select * from {{ ref('int_banking__platform_credits') }}
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

credits_tied_to_merchants as (
    select
        platform_credits.transaction_id,
        platform_credits.tenant_id,
        merchant_documents.merchant_id,
        platform_credits.account_id,
        platform_credits.account_tax_number,
        platform_credits.description,
        platform_credits.payer_document,
        platform_credits.payment_method,
        platform_credits.amount,
        platform_credits.identified_by = 'payer_document' as is_identified_by_payer,
        platform_credits.posted_date,
        platform_credits.created_at
    from platform_credits
    inner join merchant_documents
        on platform_credits.tenant_id = merchant_documents.tenant_id
        and platform_credits.account_tax_number = merchant_documents.merchant_document
    where platform_credits.platform = 'ifood'
)

select * from credits_tied_to_merchants
