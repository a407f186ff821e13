{#-
    Columns of iFood's reconciliation CSV, kept by header name in payload. Ingestion turns
    numeric columns into JSON numbers; text left in them ("Open settlement period",
    "Discontinued column") becomes null here. Dates come as YYYY-MM-DD (optionally with a
    time) or DD/MM/YYYY.
-#}
{%- set csv_money -%}
    {{ to_money(
        "case when jsonb_typeof(payload -> '__column__') = 'number'"
        ~ " then payload ->> '__column__' end"
    ) }}
{%- endset -%}

{%- set csv_date -%}
    case
        when payload ->> '__column__' ~ '^[0-9]{2}/[0-9]{2}/[0-9]{4}'
            then to_date(left(payload ->> '__column__', 10), 'DD/MM/YYYY')
        when payload ->> '__column__' ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}'
            then cast(left(payload ->> '__column__', 10) as date)
    end
{%- endset %}

{{
    config(
        materialized='incremental',
        unique_key=['tenant_id', 'reconciliation_line_id'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        indexes=[
            {'columns': ['tenant_id', 'reconciliation_line_id'], 'unique': true},
            {'columns': ['loaded_at']},
            {'columns': ['tenant_id', 'order_id']},
        ],
    )
}}

with

source as (
    select * from {{ source('ifood', 'reconciliation_lines') }}
    {{ loaded_since_last_build() }}
),

renamed as (
    select
        external_id as reconciliation_line_id,
        coalesce(merchant_id, payload ->> 'loja_id') as merchant_id,
        tenant_id,
        integration_id,
        sync_run_id,
        payload ->> 'competencia' as competence,
        {{ csv_date | replace('__column__', 'data_fato_gerador') }} as event_date,
        payload ->> 'fato_gerador' as event_type,
        payload ->> 'tipo_lancamento' as entry_type,
        payload ->> 'descricao_lancamento' as entry_description,
        {{ csv_money | replace('__column__', 'valor') }} as amount,
        {{ csv_money | replace('__column__', 'base_calculo') }} as base_amount,
        case
            when jsonb_typeof(payload -> 'percentual_taxa') = 'number'
                then cast(payload ->> 'percentual_taxa' as numeric)
        end as fee_percentage,
        payload ->> 'pedido_associado_ifood' as order_id,
        payload ->> 'pedido_associado_ifood_curto' as order_short_id,
        payload ->> 'pedido_associado_externo' as external_order_id,
        payload ->> 'motivo_cancelamento' as cancellation_reason,
        payload ->> 'descricao_ocorrencia' as occurrence_description,
        {{ csv_date | replace('__column__', 'data_criacao_pedido_associado') }} as order_created_date,
        {{ csv_date | replace('__column__', 'data_repasse_esperada') }} as expected_payment_date,
        {{ csv_money | replace('__column__', 'valor_transacao') }} as transaction_amount,
        payload ->> 'loja_id' as store_id,
        payload ->> 'loja_id_curto' as store_short_id,
        payload ->> 'loja_id_externo' as store_external_id,
        {{ digits_only("payload ->> 'cnpj'") }} as store_document,
        payload ->> 'titulo' as title,
        {{ csv_date | replace('__column__', 'data_faturamento') }} as billing_date,
        {{ csv_date | replace('__column__', 'data_apuracao_inicio') }} as calculation_start_date,
        {{ csv_date | replace('__column__', 'data_apuracao_fim') }} as calculation_end_date,
        {{ csv_money | replace('__column__', 'valor_cesta_inicial') }} as initial_basket_amount,
        {{ csv_money | replace('__column__', 'valor_cesta_final') }} as final_basket_amount,
        payload ->> 'responsavel_transacao' as transaction_responsible,
        payload ->> 'canal_vendas' as sales_channel,
        case
            when upper(trim(payload ->> 'impacto_no_repasse')) = 'SIM' then true
            when upper(trim(payload ->> 'impacto_no_repasse')) in ('NAO', 'NÃO')
                then false
        end as has_transfer_impact,
        payload ->> 'parcela_pagamento' as installment,
        payload ->> 'id_saldo' as settlement_item_id,
        payload_hash,
        loaded_at
    from source
),

deduplicated as (
    {{ deduplicate_latest_version('renamed', 'tenant_id, reconciliation_line_id') }}
),

newer_versions as (
    {{ newer_than_staged('deduplicated', ['tenant_id', 'reconciliation_line_id']) }}
)

select * from newer_versions
