"""The floor of the payments benchmark: hand-written SQL from raw to every payment's (and sale's) reconciliation row.

Written from docs/payment-reconciliation-rules.md alone (not from the dbt models, not from the
sandbox's truth), so it is a third, independent reading of the contract beside the sandbox
ground truth and the marts. Python only renders the SQL (the holidays and the gateways' payers
inlined as VALUES lists, the run's parameters bound); the database does all the work.

**A few plain `create unlogged table … as` steps, not one statement**, because one statement
would be unreadable: the canonical payments feed the payouts (Mercado Pago's and PushinPay's
payouts are sums over their payments), the payouts and the bank credits go through the three
matching steps, whose verdicts the payments then read, and the calendar is read by all of them.
Each step is one statement over the raw tables and the previous steps' tables:

1. `pay_calendar`: every day 2014..2041 with its business-day ordinal (the n-th business day
   strictly after d has ordinal ordinal(d) + n); holidays = dbt/seeds/br_financial_holidays.csv.
2. `pay_asaas_links` (analyzed): each Asaas payment's transfer (below) and refund date.
3. `pay_payments`: one canonical payment per gateway payment and per Hotmart or Kiwify sale
   (latest raw version per integration and external id by `loaded_at` desc, `payload_hash` desc);
   an update then names Mercado Pago's, PushinPay's and Hotmart's computed payout ids;
   `pay_kiwify_payouts`: Kiwify's payout objects, and an update names each released Kiwify sale's;
   `pay_payouts`: every payout with its `A`, `D` and deadline.
4. `pay_payout_verdicts`: each payout's verdict by the three matching steps over the visible
   gateway credits of the bank.
5. `payment_reconciliation` (FLOOR_TABLE): the status table, the split model (for the sales
   platforms, the commissions by role) and the fee audit.

Readings the rules leave open, made here (the other readings may differ on them):

- **Which bank credits are a gateway's**: `dbt/seeds/bank_credit_payers.csv` of this branch names
  only iFood, so the gateways' rows are inlined here as the dbt branch's seed states them (payer
  CNPJ digits, description pattern): Stripe 22121209000146 / `%stripe%`, Mercado Pago
  10573521000191 / `%mercado%pago%`, Asaas 19540550000121 / `%asaas%`, PushinPay no CNPJ /
  `%pushin%` (its CNPJ is unconfirmed). A credit is the gateway's when its payer document is the
  CNPJ or its description matches the pattern.
- **Latest version**: per (integration, external id). PushinPay's webhook bodies carry no
  `webhook_url` or `split_rules`: those are read from the latest version that has them.
- **PushinPay's "first time seen"**: the earliest `received_at` of a webhook row with that status
  (events or transactions); only when no webhook said so, the earliest `loaded_at` of an API
  confirmation saying so. A PushinPay charge becomes known only by its webhook, so in production
  the webhook is always the first sighting; in the bench `loaded_at` is the machine's clock, not
  the world's, and would otherwise depend on the day the bench runs.
- **Stripe**: `available_on` and `arrival_date` are read as their UTC date (the rules' "Calendar":
  Stripe writes date fields as their midnight UTC); refunds count unless `failed` or `canceled`; `refunded_at` is the latest counted
  refund's `created`. Every payout object is a payout, whatever its status.
- **Asaas**: a payment's payout is the first `TRANSFER` line dated after the date of its
  `PAYMENT_RECEIVED` line (one without `splitId`): the rules' "Payouts" (the tenant's automatic
  transfer runs at the start of the day; the statement has dates, not times). Two transfers on one
  date: the first by line id. `refunded_at` falls back to the `PAYMENT_REFUNDED` (or
  `PAYMENT_REVERSAL`) line's date.
- **Mercado Pago**: a payout exists for each (integration, `R`) with at least one payment in its
  `A`'s first sum; the id is `mercadopago:<integration name>:<R>` (PushinPay alike). The two
  sentences of its row are taken as written: `A` sums payments "not refunded before `R`", a
  payment "refunded on or before `R`" has no payout.
- A payment whose payout the raw tables do not hold (a Stripe payout not listed) counts as in
  transit. A `paid` payment without `R` is `awaiting_release`.
- Split rates: the payment date is `paid_at`'s São Paulo date; payments that took no money have no
  split and no fee audit (null columns).

Hotmart and Kiwify (the rules' "Sales platforms"):

- **Which bank credits**: the seed's rows, Hotmart 13427325000105 / `%hotmart%`, Kiwify
  36149947000106 / `%kiwify%`.
- **Hotmart's sale** joins the latest `/sales/history` item, commissions item and price-details item
  of its transaction. `gross` is the price details' `total.value`, else (an unpaid sale has no price
  details) `purchase.price.value`; `installments` 1 when absent. The REST history item need not carry
  `order_bump` and `subscription` (the client's notes): the latest notification's are read then.
- **Hotmart's `refunded_at`**: only for a sale whose status is `refunded` or `charged_back` (a sale
  back at `COMPLETE` after a dispute was neither). The rules say "the first `PURCHASE_REFUNDED` /
  `PURCHASE_CHARGEBACK` / `PURCHASE_PROTEST` notification"; where a dispute was followed by its
  chargeback, the chargeback's notification dates it (the rules' "also the chargeback's date"),
  so the first notification of the kind that names the sale's status (REFUNDED: refund; CHARGEBACK:
  chargeback; PROTESTED/DISPUTE: protest) wins, else the first of the three, else the earliest
  `loaded_at` of a version in that status ("the first sync that saw it"). Kiwify's: the sale's
  `refunded_at` (refunded or charged back only), a chargeback without one the earliest `loaded_at`
  of a `chargedback` version.
- **Kiwify's co-producers** are the `revenue_partners[]` other than the account itself; the account
  is the partner whose `document_id` is one of the integration's `payout_documents` (the producer's
  CNPJ; the account id is a credential, not in the warehouse's tables).
- **Scope**: a Hotmart sale whose `commission_as` is not PRODUCER (absent: PRODUCER), with an ADDON
  commission, or with a price, fee or commission not in BRL; a Kiwify sale whose charge, fee or
  settlement currency is not BRL (absent: BRL): its role differences, `split_difference` and
  `split_mismatch` are null. No sale in the sandbox is out of scope.
- **`split_difference`** of a sales sale: `split_withheld` − (the model's affiliate + co-producer
  parts), for every sale that took money (the rules define it for the gateways only; this is the
  same "reported withheld − the model's withheld parts", and, the commissions being reported for
  every sale, not null when nothing was withheld). Its `split_mismatch` is the role-by-role one.
- **Reported commissions and stated net** (`reported_affiliate_commission`,
  `reported_coproducer_commission`, `stated_net_amount`) are the split's inputs: null, like the
  split's parts, for a sale that took no money. Hotmart's stated net is the PRODUCER commission.
- **Payouts**: Hotmart's id is `hotmart:<integration name>:<R>` (Mercado Pago's form), with a payout
  for each (integration, `R`) with a release; a debit is the net of a released sale whose
  `refunded_at` São Paulo date is that day. Kiwify's sale takes the first payout object of its
  integration (status not failed, refused, rejected, canceled or cancelled) whose `created_at` São
  Paulo date is ≥ `R`; a released sale with none has no payout.
- `R` is `add_business_days(paid date, release_days)` of the contract row that the fee audit reads
  (tenant, platform, method, installments, valid on the paid date); `release_days` 0: the paid date.
- `coproducer_rate`: the chosen `control.split_rates` row's, null there (or no row): the var (0).
"""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
HOLIDAYS_CSV = ROOT / "dbt" / "seeds" / "br_financial_holidays.csv"
SCHEMA = "bench_floor"
FLOOR_TABLE = f"{SCHEMA}.payment_reconciliation"
STEP_TABLES = (
    "pay_calendar",
    "pay_asaas_links",
    "pay_payments",
    "pay_kiwify_payouts",
    "pay_payouts",
    "pay_payout_verdicts",
    "payment_reconciliation",
)
# (platform, payer CNPJ digits or None, description pattern): see the module docstring.
PAYERS = (
    ("stripe", "22121209000146", "%stripe%"),
    ("mercadopago", "10573521000191", "%mercado%pago%"),
    ("asaas", "19540550000121", "%asaas%"),
    ("pushinpay", None, "%pushin%"),
    ("hotmart", "13427325000105", "%hotmart%"),
    ("kiwify", "36149947000106", "%kiwify%"),
)
SP = "'America/Sao_Paulo'"

# ----------------------------------------------------------------------------------------- step 1
CALENDAR_SQL = """
create unlogged table bench_floor.pay_calendar as
with holidays (holiday_date) as (values {holidays}),
days as (
    select d::date as day, extract(isodow from d) < 6 and h.holiday_date is null as is_business_day
    from generate_series(date '2014-01-01', date '2041-12-31', interval '1 day') as d
    left join holidays as h on h.holiday_date = d::date
)
select day, is_business_day, count(*) filter (where is_business_day) over (order by day) as ordinal
from days
"""

# ----------------------------------------------------------------------------------------- step 2
PAYMENTS_SQL = """
create unlogged table bench_floor.pay_payments as
with

settings as (
    select %(as_of)s::date as as_of
),

integration_names as (
    select integration_id, name as integration from control.integrations
),

-- Contracted fee rows and split rates are read where they apply (below).
fees as (
    select tenant_id, platform, method, installments_from, installments_to, percent_fee, fixed_fee,
           release_days, valid_from, valid_to
    from control.fee_schedules
),

-- ---------------------------------------------------------------- Stripe
stripe_charges as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload
    from raw.stripe_charges
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

stripe_balance as (
    select distinct on (integration_id, external_id) integration_id, external_id, payload
    from raw.stripe_balance_transactions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

stripe_refunds as (
    select distinct on (integration_id, external_id) integration_id, payload
    from raw.stripe_refunds
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

stripe_refund_totals as (
    select integration_id, payload ->> 'charge' as charge_id, sum((payload ->> 'amount')::bigint) as refunded,
           max(to_timestamp((payload ->> 'created')::bigint)) as refunded_at
    from stripe_refunds
    where coalesce(payload ->> 'status', 'succeeded') not in ('failed', 'canceled')
    group by 1, 2
),

stripe_disputes as (
    select distinct on (integration_id, external_id) integration_id, payload
    from raw.stripe_disputes
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

stripe_disputed as (
    select distinct integration_id, payload ->> 'charge' as charge_id
    from stripe_disputes
    where payload ->> 'status' <> 'won'
),

stripe_payout_links as (
    select distinct on (integration_id, external_id) integration_id, payout_id, payload ->> 'id' as balance_transaction_id
    from raw.stripe_payout_transactions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

stripe_payout_of as materialized (
    select integration_id, balance_transaction_id, min(payout_id) as payout_id
    from stripe_payout_links
    group by 1, 2
),

stripe_payments as (
    select
        c.tenant_id,
        c.integration_id,
        'stripe' as platform,
        c.external_id as payment_id,
        c.payload #>> '{metadata,order_id}' as order_id,
        c.payload #>> '{metadata,product_id}' as product_id,
        c.payload #>> '{metadata,affiliate_id}' as affiliate_id,
        c.payload #>> '{payment_method_details,type}' as method,
        coalesce((c.payload #>> '{payment_method_details,card,installments,plan,count}')::integer, 1) as installments,
        case
            when d.charge_id is not null then 'charged_back'
            when r.refunded >= (c.payload ->> 'amount')::bigint then 'refunded'
            when c.payload ->> 'status' = 'succeeded' then 'paid'
            when c.payload ->> 'status' = 'pending' then 'pending'
            when c.payload ->> 'status' = 'failed' then 'failed'
        end as payment_status,
        (c.payload ->> 'amount')::numeric / 100 as gross,
        coalesce((
            select sum((f ->> 'amount')::numeric) from jsonb_array_elements(b.payload -> 'fee_details') as f
            where f ->> 'type' <> 'application_fee'
        ), 0) / 100 as reported_fee,
        coalesce((
            select sum((f ->> 'amount')::numeric) from jsonb_array_elements(b.payload -> 'fee_details') as f
            where f ->> 'type' = 'application_fee'
        ), 0) / 100 as reported_split,
        case when c.payload ->> 'status' = 'succeeded' then to_timestamp((c.payload ->> 'created')::bigint) end
            as paid_at,
        (to_timestamp((b.payload ->> 'available_on')::bigint) at time zone 'UTC')::date as expected_release_date,
        r.refunded_at,
        null::jsonb as mp_refunds,
        po.payout_id,
        (b.payload ->> 'net')::numeric / 100 as gateway_net
    from stripe_charges as c
    left join stripe_balance as b
        on b.integration_id = c.integration_id and b.external_id = c.payload ->> 'balance_transaction'
    left join stripe_refund_totals as r on r.integration_id = c.integration_id and r.charge_id = c.external_id
    left join stripe_disputed as d on d.integration_id = c.integration_id and d.charge_id = c.external_id
    left join stripe_payout_of as po
        on po.integration_id = c.integration_id and po.balance_transaction_id = c.payload ->> 'balance_transaction'
),

-- ---------------------------------------------------------------- Mercado Pago
mercadopago_latest as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload
    from raw.mercadopago_payments
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

mercadopago_payments as (
    select
        m.tenant_id,
        m.integration_id,
        'mercadopago' as platform,
        m.external_id as payment_id,
        m.payload ->> 'external_reference' as order_id,
        m.payload #>> '{metadata,product_id}' as product_id,
        m.payload #>> '{metadata,affiliate_id}' as affiliate_id,
        case m.payload ->> 'payment_type_id'
            when 'credit_card' then 'card' when 'bank_transfer' then 'pix' when 'ticket' then 'boleto'
            else m.payload ->> 'payment_type_id'
        end as method,
        coalesce((m.payload ->> 'installments')::integer, 1) as installments,
        case
            when m.payload ->> 'status' = 'charged_back' then 'charged_back'
            when m.payload ->> 'status' = 'refunded' then 'refunded'
            when m.payload ->> 'status' = 'approved' then 'paid'
            when m.payload ->> 'status' in ('pending', 'in_process', 'authorized') then 'pending'
            when m.payload ->> 'status' = 'cancelled' then 'expired'
            when m.payload ->> 'status' = 'rejected' then 'failed'
        end as payment_status,
        (m.payload ->> 'transaction_amount')::numeric as gross,
        coalesce((
            select sum((f ->> 'amount')::numeric) from jsonb_array_elements(m.payload -> 'fee_details') as f
            where f ->> 'type' <> 'application_fee'
        ), 0) as reported_fee,
        coalesce((
            select sum((f ->> 'amount')::numeric) from jsonb_array_elements(m.payload -> 'fee_details') as f
            where f ->> 'type' = 'application_fee'
        ), 0) as reported_split,
        (m.payload ->> 'date_approved')::timestamptz as paid_at,
        ((m.payload ->> 'money_release_date')::timestamptz at time zone {sp})::date as expected_release_date,
        (select max((r ->> 'date_created')::timestamptz) from jsonb_array_elements(
            case when jsonb_typeof(m.payload -> 'refunds') = 'array' then m.payload -> 'refunds' else '[]' end) as r)
            as refunded_at,
        case when jsonb_typeof(m.payload -> 'refunds') = 'array' then m.payload -> 'refunds' end as mp_refunds,
        null::text as payout_id,
        (m.payload #>> '{transaction_details,net_received_amount}')::numeric as gateway_net
    from mercadopago_latest as m
),

-- ---------------------------------------------------------------- Asaas
asaas_latest as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload
    from raw.asaas_payments
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

asaas_payments as (
    select
        a.tenant_id,
        a.integration_id,
        'asaas' as platform,
        a.external_id as payment_id,
        split_part(a.payload ->> 'externalReference', ':', 1) as order_id,
        nullif(split_part(a.payload ->> 'externalReference', ':', 2), '') as product_id,
        nullif(split_part(a.payload ->> 'externalReference', ':', 3), '') as affiliate_id,
        case a.payload ->> 'billingType'
            when 'CREDIT_CARD' then 'card' when 'PIX' then 'pix' when 'BOLETO' then 'boleto'
            else lower(a.payload ->> 'billingType')
        end as method,
        case when a.payload ->> 'installment' is null then 1
             else count(*) over (partition by a.integration_id, a.payload ->> 'installment')::integer
        end as installments,
        case
            when coalesce((a.payload ->> 'deleted')::boolean, false) then 'failed'
            when a.payload ->> 'status' in ('CHARGEBACK_REQUESTED', 'CHARGEBACK_DISPUTE', 'AWAITING_CHARGEBACK_REVERSAL')
                then 'charged_back'
            when a.payload ->> 'status' = 'REFUNDED' then 'refunded'
            when a.payload ->> 'status' in ('CONFIRMED', 'RECEIVED', 'RECEIVED_IN_CASH') then 'paid'
            when a.payload ->> 'status' in ('PENDING', 'AWAITING_RISK_ANALYSIS') then 'pending'
            when a.payload ->> 'status' = 'OVERDUE' then 'expired'
        end as payment_status,
        (a.payload ->> 'value')::numeric as gross,
        (a.payload ->> 'value')::numeric - (a.payload ->> 'netValue')::numeric as reported_fee,
        coalesce((
            select sum((s ->> 'totalValue')::numeric)
            from jsonb_array_elements(coalesce(
                case when jsonb_typeof(a.payload -> 'split') = 'array' then a.payload -> 'split' end,
                case when jsonb_typeof(a.payload -> 'splits') = 'array' then a.payload -> 'splits' end,
                '[]')) as s
        ), 0) as reported_split,
        (coalesce(a.payload ->> 'confirmedDate', a.payload ->> 'paymentDate')::date)::timestamp at time zone {sp}
            as paid_at,
        (a.payload ->> 'estimatedCreditDate')::date as expected_release_date,
        coalesce(
            (select max((r ->> 'dateCreated')::timestamp) at time zone {sp} from jsonb_array_elements(
                case when jsonb_typeof(a.payload -> 'refunds') = 'array' then a.payload -> 'refunds' else '[]' end)
                as r),
            l.refund_day::timestamp at time zone {sp}
        ) as refunded_at,
        null::jsonb as mp_refunds,
        l.transfer_id as payout_id,
        (a.payload ->> 'netValue')::numeric - coalesce((
            select sum((s ->> 'totalValue')::numeric)
            from jsonb_array_elements(coalesce(
                case when jsonb_typeof(a.payload -> 'split') = 'array' then a.payload -> 'split' end,
                case when jsonb_typeof(a.payload -> 'splits') = 'array' then a.payload -> 'splits' end,
                '[]')) as s
        ), 0) as gateway_net
    from asaas_latest as a
    left join bench_floor.pay_asaas_links as l on l.integration_id = a.integration_id and l.payment_id = a.external_id
),

-- ---------------------------------------------------------------- PushinPay
pushinpay_versions as (
    select tenant_id, integration_id, external_id, payload, source, loaded_at, received_at, payload_hash,
           coalesce(status, payload ->> 'status') as status
    from raw.pushinpay_transactions
),

pushinpay_latest as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload, status
    from pushinpay_versions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

pushinpay_attributes as (
    select distinct on (integration_id, external_id) integration_id, external_id, payload
    from pushinpay_versions
    where payload ? 'webhook_url'
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- Every sighting of a status: webhooks at their delivery, API confirmations at their load.
pushinpay_sightings as (
    select integration_id, external_id, status, source, coalesce(received_at, loaded_at) as seen_at
    from pushinpay_versions
    union all
    select integration_id, transaction_id, split_part(external_id, ':', 2), source, coalesce(received_at, loaded_at)
    from raw.pushinpay_webhook_events
),

pushinpay_seen as (
    select
        integration_id,
        external_id,
        coalesce(min(seen_at) filter (where status = 'paid' and source = 'webhook'),
                 min(seen_at) filter (where status = 'paid')) as paid_at,
        coalesce(min(seen_at) filter (where status = 'refunded' and source = 'webhook'),
                 min(seen_at) filter (where status = 'refunded')) as refunded_at
    from pushinpay_sightings
    group by 1, 2
),

pushinpay_base as (
    select
        l.tenant_id,
        l.integration_id,
        l.external_id as payment_id,
        substring(a.payload ->> 'webhook_url' from '[?&]order=([^&#]*)') as order_id,
        substring(a.payload ->> 'webhook_url' from '[?&]product=([^&#]*)') as product_id,
        substring(a.payload ->> 'webhook_url' from '[?&]affiliate=([^&#]*)') as affiliate_id,
        case
            when l.status = 'refunded' then 'refunded'
            when l.status = 'paid' then 'paid'
            when l.status = 'created' then 'pending'
            when l.status in ('canceled', 'expired') then 'expired'
        end as payment_status,
        (l.payload ->> 'value')::numeric / 100 as gross,
        coalesce((select sum((r ->> 'value')::numeric) from jsonb_array_elements(
            case when jsonb_typeof(a.payload -> 'split_rules') = 'array' then a.payload -> 'split_rules' else '[]' end)
            as r), 0) / 100 as reported_split,
        s.paid_at,
        s.refunded_at
    from pushinpay_latest as l
    left join pushinpay_attributes as a on a.integration_id = l.integration_id and a.external_id = l.external_id
    left join pushinpay_seen as s on s.integration_id = l.integration_id and s.external_id = l.external_id
),

pushinpay_payments as (
    select
        p.tenant_id,
        p.integration_id,
        'pushinpay' as platform,
        p.payment_id,
        p.order_id,
        p.product_id,
        p.affiliate_id,
        'pix' as method,
        1 as installments,
        p.payment_status,
        p.gross,
        round(p.gross * f.percent_fee / 100 + f.fixed_fee, 2) as reported_fee,
        p.reported_split,
        p.paid_at,
        case when f.release_days = 0 then (p.paid_at at time zone {sp})::date else release.day end
            as expected_release_date,
        p.refunded_at,
        null::jsonb as mp_refunds,
        null::text as payout_id,
        null::numeric as gateway_net
    from pushinpay_base as p
    left join lateral (
        select f.percent_fee, f.fixed_fee, f.release_days from fees as f
        where f.tenant_id = p.tenant_id and f.platform = 'pushinpay' and f.method = 'pix'
            and 1 between f.installments_from and f.installments_to
            and (p.paid_at at time zone {sp})::date between f.valid_from and coalesce(f.valid_to, 'infinity')
        order by f.valid_from desc limit 1
    ) as f on true
    left join bench_floor.pay_calendar as paid_day on paid_day.day = (p.paid_at at time zone {sp})::date
    left join bench_floor.pay_calendar as release
        on release.is_business_day and release.ordinal = paid_day.ordinal + f.release_days
),

-- ---------------------------------------------------------------- Hotmart (a sales platform)
hotmart_latest as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload
    from raw.hotmart_sales
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

hotmart_commission_items as (
    select distinct on (integration_id, external_id) integration_id, external_id, payload
    from raw.hotmart_commissions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

hotmart_prices as (
    select distinct on (integration_id, external_id) integration_id, external_id, payload
    from raw.hotmart_price_details
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- Each sale's commissions by role (`source`), the affiliate's ucode, and what puts it out of scope.
hotmart_roles as (
    select
        c.integration_id,
        c.external_id,
        sum((x #>> '{commission,value}')::numeric) filter (where x ->> 'source' = 'AFFILIATE') as affiliate,
        sum((x #>> '{commission,value}')::numeric) filter (where x ->> 'source' = 'COPRODUCER') as coproducer,
        sum((x #>> '{commission,value}')::numeric) filter (where x ->> 'source' = 'PRODUCER') as producer,
        min(x #>> '{user,ucode}') filter (where x ->> 'source' = 'AFFILIATE') as affiliate_id,
        bool_or(x ->> 'source' = 'ADDON') as has_addon,
        bool_or(coalesce(x #>> '{commission,currency_value}', 'BRL') <> 'BRL') as foreign_commission
    from hotmart_commission_items as c
    cross join lateral jsonb_array_elements(
        case when jsonb_typeof(c.payload -> 'commissions') = 'array' then c.payload -> 'commissions' else '[]' end) as x
    group by 1, 2
),

hotmart_notifications as (
    select distinct on (integration_id, external_id)
        integration_id, external_id, transaction, payload,
        timestamptz 'epoch' + (payload ->> 'creation_date')::bigint * interval '1 millisecond' as created_at
    from raw.hotmart_webhook_events
    where transaction is not null
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- The refund's (or chargeback's) date: the first refund, chargeback or dispute notification; where
-- several kinds came (a dispute, then its chargeback), the first of the kind that names the sale's
-- status (the chargeback's date is the chargeback's notification, not the dispute's).
hotmart_notified as (
    select integration_id, transaction,
           min(created_at) filter (where payload ->> 'event' = 'PURCHASE_REFUNDED') as refund_at,
           min(created_at) filter (where payload ->> 'event' = 'PURCHASE_CHARGEBACK') as chargeback_at,
           min(created_at) filter (where payload ->> 'event' = 'PURCHASE_PROTEST') as protest_at,
           min(created_at) as first_at
    from hotmart_notifications
    where payload ->> 'event' in ('PURCHASE_REFUNDED', 'PURCHASE_CHARGEBACK', 'PURCHASE_PROTEST')
    group by 1, 2
),

-- The REST history item need not carry `order_bump` and `subscription`: the latest notification's then.
hotmart_notified_attributes as (
    select distinct on (integration_id, transaction)
        integration_id, transaction,
        payload #> '{data,purchase,order_bump}' as order_bump,
        payload #>> '{data,subscription,subscriber,code}' as subscriber_code
    from hotmart_notifications
    order by integration_id, transaction, created_at desc, external_id desc
),

-- Without a notification: the first sync that saw the sale refunded or charged back.
hotmart_first_seen as (
    select integration_id, external_id, min(coalesce(received_at, loaded_at)) as seen_at
    from raw.hotmart_sales
    where payload #>> '{purchase,status}' in ('REFUNDED', 'CHARGEBACK', 'PROTESTED', 'DISPUTE')
    group by 1, 2
),

hotmart_base as (
    select
        s.tenant_id,
        s.integration_id,
        'hotmart' as platform,
        s.external_id as payment_id,
        case when (bump.value ->> 'is_order_bump')::boolean and bump.value ->> 'parent_purchase_transaction' is not null
             then bump.value ->> 'parent_purchase_transaction' else s.external_id end as order_id,
        s.payload #>> '{product,id}' as product_id,
        r.affiliate_id,
        case s.payload #>> '{purchase,payment,type}'
            when 'CREDIT_CARD' then 'card' when 'PIX' then 'pix' when 'BILLET' then 'boleto'
            else lower(s.payload #>> '{purchase,payment,type}')
        end as method,
        coalesce((s.payload #>> '{purchase,payment,installments_number}')::integer, 1) as installments,
        st.payment_status,
        coalesce((p.payload #>> '{total,value}')::numeric, (s.payload #>> '{purchase,price,value}')::numeric) as gross,
        coalesce((p.payload #>> '{fee,value}')::numeric, 0) as reported_fee,
        coalesce(r.affiliate, 0) + coalesce(r.coproducer, 0) as reported_split,
        timestamptz 'epoch' + (s.payload #>> '{purchase,approved_date}')::bigint * interval '1 millisecond' as paid_at,
        case when st.payment_status in ('refunded', 'charged_back') then coalesce(
            case s.payload #>> '{purchase,status}'
                when 'REFUNDED' then n.refund_at when 'CHARGEBACK' then n.chargeback_at else n.protest_at end,
            n.first_at,
            f.seen_at) end as refunded_at,
        r.producer as gateway_net,
        case when (s.payload #>> '{purchase,is_subscription}')::boolean
             then coalesce(s.payload #>> '{subscription,subscriber,code}', a.subscriber_code) end as subscription_id,
        coalesce(r.affiliate, 0) as reported_affiliate,
        coalesce(r.coproducer, 0) as reported_coproducer,
        r.producer as stated_net,
        coalesce(s.payload #>> '{purchase,commission_as}', 'PRODUCER') = 'PRODUCER'
            and not coalesce(r.has_addon, false) and not coalesce(r.foreign_commission, false)
            and coalesce(s.payload #>> '{purchase,price,currency_code}', 'BRL') = 'BRL'
            and coalesce(p.payload #>> '{total,currency_code}', 'BRL') = 'BRL'
            and coalesce(p.payload #>> '{fee,currency_code}', 'BRL') = 'BRL' as split_in_scope
    from hotmart_latest as s
    left join hotmart_prices as p on p.integration_id = s.integration_id and p.external_id = s.external_id
    left join hotmart_roles as r on r.integration_id = s.integration_id and r.external_id = s.external_id
    left join hotmart_notified as n on n.integration_id = s.integration_id and n.transaction = s.external_id
    left join hotmart_notified_attributes as a on a.integration_id = s.integration_id and a.transaction = s.external_id
    left join hotmart_first_seen as f on f.integration_id = s.integration_id and f.external_id = s.external_id
    cross join lateral (select coalesce(s.payload #> '{purchase,order_bump}', a.order_bump) as value) as bump
    cross join lateral (
        select case
            when s.payload #>> '{purchase,status}' in ('CHARGEBACK', 'PROTESTED', 'DISPUTE') then 'charged_back'
            when s.payload #>> '{purchase,status}' = 'REFUNDED' then 'refunded'
            when s.payload #>> '{purchase,status}' in ('APPROVED', 'COMPLETE', 'PARTIALLY_REFUNDED') then 'paid'
            when s.payload #>> '{purchase,status}' in ('WAITING_PAYMENT', 'PRINTED_BILLET', 'PROCESSING_TRANSACTION',
                'UNDER_ANALISYS', 'STARTED', 'PRE_ORDER', 'OVERDUE') then 'pending'
            when s.payload #>> '{purchase,status}' = 'EXPIRED' then 'expired'
            when s.payload #>> '{purchase,status}' in ('CANCELLED', 'NO_FUNDS', 'BLOCKED') then 'failed'
        end as payment_status
    ) as st
),

-- ---------------------------------------------------------------- Kiwify (a sales platform)
kiwify_latest as (
    select distinct on (integration_id, external_id) tenant_id, integration_id, external_id, payload
    from raw.kiwify_sales
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

kiwify_first_chargeback as (
    select integration_id, external_id, min(coalesce(received_at, loaded_at)) as seen_at
    from raw.kiwify_sales
    where payload ->> 'status' = 'chargedback'
    group by 1, 2
),

-- The account's own documents: a revenue partner holding one of them is the account itself.
integration_documents as (
    select i.integration_id, array_agg(regexp_replace(d.document, '[^0-9]', '', 'g')) as documents
    from control.integrations as i
    cross join lateral jsonb_array_elements_text(
        case when jsonb_typeof(i.external_ids -> 'payout_documents') = 'array'
             then i.external_ids -> 'payout_documents' else '[]' end) as d(document)
    group by 1
),

kiwify_base as (
    select
        k.tenant_id,
        k.integration_id,
        'kiwify' as platform,
        k.external_id as payment_id,
        coalesce(nullif(k.payload ->> 'parent_order_id', ''), k.payload ->> 'id', k.external_id) as order_id,
        k.payload #>> '{product,id}' as product_id,
        nullif(k.payload #>> '{affiliate_commission,document}', '') as affiliate_id,
        case k.payload ->> 'payment_method' when 'credit_card' then 'card' else k.payload ->> 'payment_method' end
            as method,
        coalesce((k.payload ->> 'installments')::integer, 1) as installments,
        st.payment_status,
        (k.payload #>> '{payment,charge_amount}')::numeric / 100 as gross,
        coalesce((k.payload #>> '{payment,fee}')::numeric, 0) / 100 as reported_fee,
        (coalesce((k.payload #>> '{affiliate_commission,amount}')::numeric, 0) + coalesce(partners.coproducer, 0)) / 100
            as reported_split,
        (k.payload ->> 'approved_date')::timestamptz as paid_at,
        case
            when st.payment_status = 'refunded' then (k.payload ->> 'refunded_at')::timestamptz
            when st.payment_status = 'charged_back' then coalesce((k.payload ->> 'refunded_at')::timestamptz, f.seen_at)
        end as refunded_at,
        (k.payload #>> '{payment,net_amount}')::numeric / 100 as gateway_net,
        nullif(k.payload ->> 'subscription_id', '') as subscription_id,
        coalesce((k.payload #>> '{affiliate_commission,amount}')::numeric, 0) / 100 as reported_affiliate,
        coalesce(partners.coproducer, 0) / 100 as reported_coproducer,
        (k.payload #>> '{payment,net_amount}')::numeric / 100 as stated_net,
        coalesce(k.payload #>> '{payment,charge_currency}', 'BRL') = 'BRL'
            and coalesce(k.payload #>> '{payment,fee_currency}', 'BRL') = 'BRL'
            and coalesce(k.payload #>> '{payment,settlement_currency}', 'BRL') = 'BRL' as split_in_scope
    from kiwify_latest as k
    left join kiwify_first_chargeback as f on f.integration_id = k.integration_id and f.external_id = k.external_id
    left join integration_documents as docs on docs.integration_id = k.integration_id
    cross join lateral (
        select sum((x ->> 'net_amount_split')::numeric) as coproducer
        from jsonb_array_elements(
            case when jsonb_typeof(k.payload -> 'revenue_partners') = 'array' then k.payload -> 'revenue_partners' else '[]' end)
            as x
        where not coalesce(regexp_replace(coalesce(x ->> 'document_id', ''), '[^0-9]', '', 'g') = any(docs.documents), false)
    ) as partners
    cross join lateral (
        select case
            when k.payload ->> 'status' = 'chargedback' then 'charged_back'
            when k.payload ->> 'status' = 'refunded' then 'refunded'
            when k.payload ->> 'status' in ('paid', 'approved', 'refund_requested', 'pending_refund') then 'paid'
            when k.payload ->> 'status' in ('waiting_payment', 'pending', 'processing', 'authorized') then 'pending'
            when k.payload ->> 'status' = 'refused' then 'failed'
        end as payment_status
    ) as st
),

-- Both platforms state no release date: R = add_business_days(paid date, release_days) of the contract row.
sales_payments as (
    select
        b.tenant_id, b.integration_id, b.platform, b.payment_id, b.order_id, b.product_id, b.affiliate_id, b.method,
        b.installments, b.payment_status, b.gross, b.reported_fee, b.reported_split, b.paid_at,
        case when f.release_days = 0 then (b.paid_at at time zone {sp})::date else release.day end
            as expected_release_date,
        b.refunded_at,
        null::jsonb as mp_refunds,
        null::text as payout_id,
        b.gateway_net,
        b.subscription_id, b.reported_affiliate, b.reported_coproducer, b.stated_net, b.split_in_scope
    from (select * from hotmart_base union all select * from kiwify_base) as b
    left join lateral (
        select f.release_days from fees as f
        where f.tenant_id = b.tenant_id and f.platform = b.platform and f.method = b.method
            and b.installments between f.installments_from and f.installments_to
            and (b.paid_at at time zone {sp})::date between f.valid_from and coalesce(f.valid_to, 'infinity')
        order by f.valid_from desc limit 1
    ) as f on true
    left join bench_floor.pay_calendar as paid_day on paid_day.day = (b.paid_at at time zone {sp})::date
    left join bench_floor.pay_calendar as release
        on release.is_business_day and release.ordinal = paid_day.ordinal + f.release_days
),

all_payments as (
    select g.*, null::text as subscription_id, null::numeric as reported_affiliate,
           null::numeric as reported_coproducer, null::numeric as stated_net, null::boolean as split_in_scope
    from (
        select * from stripe_payments
        union all select * from mercadopago_payments
        union all select * from asaas_payments
        union all select * from pushinpay_payments
    ) as g
    union all select * from sales_payments
)

-- A payment that took no money has fee, split and net 0.
select
    p.tenant_id,
    p.integration_id,
    n.integration,
    p.platform,
    p.payment_id,
    p.order_id,
    p.product_id,
    p.affiliate_id,
    p.method,
    p.installments,
    p.payment_status,
    p.gross::numeric(18, 2) as gross,
    case when p.payment_status in ('paid', 'refunded', 'charged_back') then p.reported_fee else 0 end::numeric(18, 2)
        as fee,
    case when p.payment_status in ('paid', 'refunded', 'charged_back') then p.reported_split else 0 end::numeric(18, 2)
        as split_withheld,
    p.paid_at,
    (p.paid_at at time zone {sp})::date as paid_date,
    p.expected_release_date,
    p.refunded_at,
    (p.refunded_at at time zone {sp})::date as refunded_date,
    p.mp_refunds,
    p.payout_id,
    p.gateway_net,
    p.subscription_id,
    case when p.payment_status in ('paid', 'refunded', 'charged_back') then p.reported_affiliate
         when p.platform in ('hotmart', 'kiwify') then 0 end::numeric(18, 2) as reported_affiliate,
    case when p.payment_status in ('paid', 'refunded', 'charged_back') then p.reported_coproducer
         when p.platform in ('hotmart', 'kiwify') then 0 end::numeric(18, 2) as reported_coproducer,
    p.stated_net::numeric(18, 2) as stated_net,
    p.split_in_scope
from all_payments as p
left join integration_names as n on n.integration_id = p.integration_id
"""

ASAAS_SQL = """
create unlogged table bench_floor.pay_asaas_links as
with

asaas_statement as materialized (
    select distinct on (integration_id, external_id)
        integration_id,
        external_id as line_id,
        (payload ->> 'date')::date as day,
        payload ->> 'type' as type,
        payload ->> 'paymentId' as payment_id,
        payload ->> 'transferId' as transfer_id,
        payload ->> 'splitId' as split_id
    from raw.asaas_financial_transactions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- Each date's transfer (the first by line id if a date had two), and the next date with one.
asaas_transfer_days as materialized (
    select integration_id, day, transfer_id, lag(day) over (partition by integration_id order by day) as previous_day
    from (
        select distinct on (integration_id, day) integration_id, day, transfer_id
        from asaas_statement
        where type = 'TRANSFER' and transfer_id is not null
        order by integration_id, day, line_id
    ) as firsts
),

asaas_credit_lines as materialized (
    select distinct on (integration_id, payment_id) integration_id, payment_id, line_id, day
    from asaas_statement
    where type = 'PAYMENT_RECEIVED' and split_id is null and payment_id is not null
    order by integration_id, payment_id, day, line_id
),

-- The first transfer dated after the credit's date: the one whose previous transfer date is on or
-- before the credit's date (or that has none).
asaas_payment_transfer as materialized (
    select c.integration_id, c.payment_id, n.transfer_id
    from asaas_credit_lines as c
    left join asaas_transfer_days as n
        on n.integration_id = c.integration_id and n.day > c.day
        and (n.previous_day is null or n.previous_day <= c.day)
),

asaas_refund_lines as materialized (
    select integration_id, payment_id, min(day) as day
    from asaas_statement
    where type in ('PAYMENT_REFUNDED', 'PAYMENT_REVERSAL') and payment_id is not null and split_id is null
    group by 1, 2
)

select
    coalesce(t.integration_id, r.integration_id) as integration_id,
    coalesce(t.payment_id, r.payment_id) as payment_id,
    t.transfer_id,
    r.day as refund_day
from asaas_payment_transfer as t
full join asaas_refund_lines as r on r.integration_id = t.integration_id and r.payment_id = t.payment_id
"""

PAYOUTS_SQL = """
create unlogged table bench_floor.pay_payouts as
with

settings as (
    select %(as_of)s::date as as_of, %(grace_days)s::integer as grace_days
),

stripe_payouts as (
    select distinct on (integration_id, external_id)
        tenant_id, integration_id, 'stripe' as platform, external_id as payout_id,
        (payload ->> 'amount')::numeric / 100 as amount,
        (to_timestamp((payload ->> 'arrival_date')::bigint) at time zone 'UTC')::date as payout_date
    from raw.stripe_payouts
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

asaas_transfers as (
    select distinct on (integration_id, external_id)
        tenant_id, integration_id, 'asaas' as platform, external_id as payout_id,
        coalesce((payload ->> 'netValue')::numeric,
                 (payload ->> 'value')::numeric - coalesce((payload ->> 'transferFee')::numeric, 0)) as amount,
        coalesce(payload ->> 'effectiveDate', payload ->> 'scheduleDate')::date as payout_date
    from raw.asaas_transfers
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- Mercado Pago: the day's release. A's first sum: payments paid, refunded or charged back, R < as-of,
-- not refunded before R; minus the refunds dated that day of payments released before it.
mercadopago_released as (
    select p.*
    from bench_floor.pay_payments as p
    cross join settings as s
    where p.platform = 'mercadopago'
        and p.payment_status in ('paid', 'refunded', 'charged_back')
        and p.expected_release_date < s.as_of
        and not coalesce(p.refunded_date < p.expected_release_date, false)
),

mercadopago_refunds as (
    select p.integration_id, ((r ->> 'date_created')::timestamptz at time zone {sp})::date as day,
           sum((r ->> 'amount')::numeric) as amount
    from mercadopago_released as p
    cross join lateral jsonb_array_elements(coalesce(p.mp_refunds, '[]')) as r
    where ((r ->> 'date_created')::timestamptz at time zone {sp})::date > p.expected_release_date
    group by 1, 2
),

mercadopago_payouts as (
    select
        r.tenant_id, r.integration_id, 'mercadopago' as platform,
        'mercadopago:' || r.integration || ':' || r.expected_release_date as payout_id,
        sum(r.gross - r.fee - r.split_withheld) - coalesce(max(f.amount), 0) as amount,
        r.expected_release_date as payout_date
    from mercadopago_released as r
    left join mercadopago_refunds as f on f.integration_id = r.integration_id and f.day = r.expected_release_date
    group by r.tenant_id, r.integration_id, r.integration, r.expected_release_date
),

pushinpay_payouts as (
    select
        p.tenant_id, p.integration_id, 'pushinpay' as platform,
        'pushinpay:' || p.integration || ':' || p.expected_release_date as payout_id,
        sum(p.gross - p.fee - p.split_withheld) as amount,
        p.expected_release_date as payout_date
    from bench_floor.pay_payments as p
    cross join settings as s
    where p.platform = 'pushinpay' and p.payment_status = 'paid' and p.expected_release_date < s.as_of
    group by p.tenant_id, p.integration_id, p.integration, p.expected_release_date
),

-- Hotmart: the release day's computed deposit. A: Σ net of the sales released on R, less Σ net of the
-- sales refunded or charged back that day that were released before it (a debit on a day without a
-- release shrinks no deposit).
hotmart_released as (
    select p.*
    from bench_floor.pay_payments as p
    cross join settings as s
    where p.platform = 'hotmart'
        and p.payment_status in ('paid', 'refunded', 'charged_back')
        and p.expected_release_date < s.as_of
        and not coalesce(p.refunded_date <= p.expected_release_date, false)
),

hotmart_debits as (
    select integration_id, refunded_date as day, sum(gross - fee - split_withheld) as amount
    from hotmart_released
    where refunded_date is not null
    group by 1, 2
),

hotmart_payouts as (
    select
        r.tenant_id, r.integration_id, 'hotmart' as platform,
        'hotmart:' || r.integration || ':' || r.expected_release_date as payout_id,
        sum(r.gross - r.fee - r.split_withheld) - coalesce(max(d.amount), 0) as amount,
        r.expected_release_date as payout_date
    from hotmart_released as r
    left join hotmart_debits as d on d.integration_id = r.integration_id and d.day = r.expected_release_date
    group by r.tenant_id, r.integration_id, r.integration, r.expected_release_date
),

kiwify_payouts as (
    select tenant_id, integration_id, 'kiwify' as platform, payout_id, amount, payout_date
    from bench_floor.pay_kiwify_payouts
    where status not in ('failed', 'refused', 'rejected', 'canceled', 'cancelled')
),

payouts as (
    select * from stripe_payouts
    union all select * from asaas_transfers
    union all select * from mercadopago_payouts
    union all select * from pushinpay_payouts
    union all select * from hotmart_payouts
    union all select * from kiwify_payouts
)

select
    p.tenant_id, p.integration_id, p.platform, p.payout_id, p.amount::numeric(18, 2) as amount, p.payout_date,
    case when coalesce(t.grace_days, s.grace_days) = 0 then p.payout_date else deadline.day end as deadline,
    coalesce(t.value_tolerance, %(value_tolerance)s::numeric) as value_tolerance
from payouts as p
cross join settings as s
left join control.tolerances as t on t.tenant_id = p.tenant_id
left join bench_floor.pay_calendar as d on d.day = p.payout_date
left join bench_floor.pay_calendar as deadline
    on deadline.is_business_day and deadline.ordinal = d.ordinal + coalesce(t.grace_days, s.grace_days)
"""

PAYMENT_PAYOUTS_SQL = """
-- Mercado Pago's and PushinPay's payments name the day's payout (their payout ids are computed).
update bench_floor.pay_payments as p
set payout_id = p.platform || ':' || p.integration || ':' || p.expected_release_date
where (
        p.platform = 'mercadopago'
        and p.payment_status in ('paid', 'refunded', 'charged_back')
        and p.expected_release_date < %(as_of)s::date
        and not coalesce(p.refunded_date <= p.expected_release_date, false)
    ) or (
        p.platform = 'pushinpay' and p.payment_status = 'paid' and p.expected_release_date < %(as_of)s::date
    ) or (
        p.platform = 'hotmart'
        and p.payment_status in ('paid', 'refunded', 'charged_back')
        and p.expected_release_date < %(as_of)s::date
        and not coalesce(p.refunded_date <= p.expected_release_date, false)
    )
"""

# Kiwify's payouts: the payout objects Kiwify lists (latest version), but those that failed.
KIWIFY_PAYOUTS_SQL = """
create unlogged table bench_floor.pay_kiwify_payouts as
select distinct on (integration_id, external_id)
    tenant_id, integration_id, external_id as payout_id,
    (payload ->> 'amount')::numeric / 100 as amount,
    (payload ->> 'created_at')::timestamptz as created_at,
    ((payload ->> 'created_at')::timestamptz at time zone {sp})::date as payout_date,
    payload ->> 'status' as status
from raw.kiwify_payouts
order by integration_id, external_id, loaded_at desc, payload_hash desc
"""

# A released Kiwify sale's payout: the integration's first payout dated on or after R (several on that
# date: the earliest `created_at`, then id).
KIWIFY_PAYMENT_PAYOUTS_SQL = """
update bench_floor.pay_payments as p
set payout_id = (
    select o.payout_id from bench_floor.pay_kiwify_payouts as o
    where o.integration_id = p.integration_id and o.payout_date >= p.expected_release_date
        and o.status not in ('failed', 'refused', 'rejected', 'canceled', 'cancelled')
    order by o.payout_date, o.created_at, o.payout_id
    limit 1
)
where p.platform = 'kiwify'
    and p.payment_status in ('paid', 'refunded', 'charged_back')
    and p.expected_release_date < %(as_of)s::date
    and not coalesce(p.refunded_date <= p.expected_release_date, false)
"""

# ----------------------------------------------------------------------------------------- step 3
VERDICTS_SQL = """
create unlogged table bench_floor.pay_payout_verdicts as
with

settings as (
    select %(as_of)s::date as as_of
),

payers (platform, document, pattern) as (values {payers}),

accounts as (
    select distinct on (integration_id, external_id)
        tenant_id, external_id as account_id,
        regexp_replace(coalesce(payload ->> 'taxNumber', ''), '[^0-9]', '', 'g') as document
    from raw.pluggy_accounts
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

transactions as (
    select distinct on (integration_id, external_id)
        tenant_id,
        external_id as transaction_id,
        coalesce(account_id, payload ->> 'accountId') as account_id,
        (payload ->> 'amount')::numeric(18, 2) as amount,
        left(payload ->> 'date', 10)::date as posted_date,
        coalesce(payload ->> 'status', 'POSTED') as status,
        coalesce(payload ->> 'type' = 'CREDIT', (payload ->> 'amount')::numeric > 0) as is_credit,
        regexp_replace(coalesce(payload #>> '{{paymentData,payer,documentNumber,value}}', ''), '[^0-9]', '', 'g')
            as payer_document,
        coalesce(payload ->> 'description', '') as description
    from raw.pluggy_transactions
    order by integration_id, external_id, loaded_at desc, payload_hash desc
),

-- Visible, posted credits of a gateway.
credits as materialized (
    select t.tenant_id, t.account_id, p.platform, t.transaction_id, t.posted_date, t.amount
    from transactions as t
    cross join settings as s
    inner join payers as p
        on (p.document is not null and t.payer_document = p.document) or t.description ilike p.pattern
    where t.is_credit and t.status = 'POSTED' and t.posted_date < s.as_of
),

integration_accounts as (
    select distinct i.integration_id, a.account_id
    from control.integrations as i
    cross join lateral jsonb_array_elements_text(
        case when jsonb_typeof(i.external_ids -> 'payout_documents') = 'array'
             then i.external_ids -> 'payout_documents' else '[]' end) as d(document)
    inner join accounts as a
        on a.tenant_id = i.tenant_id and a.document = regexp_replace(d.document, '[^0-9]', '', 'g')
),

-- Payouts not in transit, one row per account they pay into.
due as materialized (
    select p.*, a.account_id
    from bench_floor.pay_payouts as p
    cross join settings as s
    inner join integration_accounts as a on a.integration_id = p.integration_id
    where p.payout_date < s.as_of
),

-- Step 1: exact, same day. Groups by (account, gateway, date, amount).
payout_groups as (
    select account_id, platform, payout_date as day, amount, count(*) as payouts from due group by 1, 2, 3, 4
),

credit_groups as (
    select account_id, platform, posted_date as day, amount, count(*) as credits from credits group by 1, 2, 3, 4
),

step1_payouts as (
    select d.*, g.credits,
           row_number() over (partition by d.account_id, d.platform, d.payout_date, d.amount order by d.payout_id)
               as pair
    from due as d
    inner join payout_groups as pg
        on pg.account_id = d.account_id and pg.platform = d.platform and pg.day = d.payout_date
        and pg.amount = d.amount
    inner join credit_groups as g
        on g.account_id = d.account_id and g.platform = d.platform and g.day = d.payout_date and g.amount = d.amount
),

step1_credits as materialized (
    select c.*,
           row_number() over (partition by c.account_id, c.platform, c.posted_date, c.amount order by c.transaction_id)
               as pair,
           pg.payouts
    from credits as c
    inner join payout_groups as pg
        on pg.account_id = c.account_id and pg.platform = c.platform and pg.day = c.posted_date
        and pg.amount = c.amount
),

step1 as (
    select
        p.payout_id, p.integration_id, p.account_id,
        case when p.credits = pg.payouts then 'matched' else 'ambiguous' end as verdict,
        c.transaction_id, c.posted_date as credit_date, c.amount as credit_amount
    from step1_payouts as p
    inner join payout_groups as pg
        on pg.account_id = p.account_id and pg.platform = p.platform and pg.day = p.payout_date
        and pg.amount = p.amount
    left join step1_credits as c
        on p.credits = pg.payouts
        and c.account_id = p.account_id and c.platform = p.platform and c.posted_date = p.payout_date
        and c.amount = p.amount and c.pair = p.pair
),

-- Step 2: within tolerance, on or after D, among the credits step 1 did not take.
left2 as materialized (
    select d.* from due as d
    where not exists (select 1 from step1 as s where s.payout_id = d.payout_id and s.integration_id = d.integration_id)
),

-- A credit's amount bucket: amounts cut into slices as wide as the tenant's value tolerance (a
-- cent at least), so a credit within tolerance of A is in A's slice or a neighbour's and step 2
-- joins by equality instead of pairing a payout with every later credit of its account.
free2 as materialized (
    select c.*,
           floor(c.amount / greatest(coalesce(tol.value_tolerance, %(value_tolerance)s::numeric), 0.01)) as bucket
    from credits as c
    left join control.tolerances as tol on tol.tenant_id = c.tenant_id
    where not exists (
        select 1 from step1_credits as t where t.tenant_id = c.tenant_id and t.transaction_id = c.transaction_id
    )
),

candidates2 as materialized (
    select p.payout_id, p.integration_id, p.account_id, c.tenant_id, c.transaction_id, c.posted_date, c.amount,
           count(*) over (partition by p.integration_id, p.payout_id) as payout_candidates,
           count(*) over (partition by c.tenant_id, c.transaction_id) as credit_claimants
    from left2 as p
    cross join (values (-1), (0), (1)) as n(step)
    inner join free2 as c
        on c.account_id = p.account_id and c.platform = p.platform
        and c.bucket = floor(p.amount / greatest(p.value_tolerance, 0.01)) + n.step
    where c.posted_date >= p.payout_date and abs(c.amount - p.amount) <= p.value_tolerance
),

step2 as (
    select distinct on (payout_id, integration_id)
        payout_id, integration_id, account_id,
        case when payout_candidates = 1 and credit_claimants = 1 then 'matched' else 'ambiguous' end as verdict,
        case when payout_candidates = 1 and credit_claimants = 1 then transaction_id end as transaction_id,
        case when payout_candidates = 1 and credit_claimants = 1 then posted_date end as credit_date,
        case when payout_candidates = 1 and credit_claimants = 1 then amount end as credit_amount
    from candidates2
    order by payout_id, integration_id
),

-- Step 3: no candidate.
left3 as (
    select p.* from left2 as p
    where not exists (
        select 1 from candidates2 as c where c.payout_id = p.payout_id and c.integration_id = p.integration_id
    )
),

free3 as materialized (
    select c.* from free2 as c
    where not exists (select 1 from candidates2 as t where t.tenant_id = c.tenant_id and t.transaction_id = c.transaction_id)
),

-- The free credits in each payout's window D..deadline, found by date (one row per day of the window).
window3 as materialized (
    select p.payout_id, p.integration_id, p.account_id, p.amount as payout_amount, p.payout_date,
           p.value_tolerance, c.transaction_id, c.posted_date, c.amount
    from left3 as p
    cross join lateral generate_series(p.payout_date, p.deadline, interval '1 day') as w(day)
    inner join free3 as c
        on c.account_id = p.account_id and c.platform = p.platform and c.posted_date = w.day::date
),

split3 as (
    select distinct a.payout_id, a.integration_id, a.account_id
    from window3 as a
    inner join window3 as b
        on b.payout_id = a.payout_id and b.integration_id = a.integration_id and b.account_id = a.account_id
        and b.transaction_id > a.transaction_id
    where abs(a.amount + b.amount - a.payout_amount) <= a.value_tolerance
),

short3 as (
    select distinct payout_id, integration_id, account_id
    from window3
    where posted_date = payout_date
),

step3 as (
    select
        p.payout_id, p.integration_id, p.account_id,
        case
            when sp.payout_id is not null then 'split'
            when sh.payout_id is not null then 'short'
            when p.deadline < s.as_of then 'missing'
            else 'in_transit'
        end as verdict,
        null::text as transaction_id, null::date as credit_date, null::numeric(18, 2) as credit_amount
    from left3 as p
    cross join settings as s
    left join split3 as sp
        on sp.payout_id = p.payout_id and sp.integration_id = p.integration_id and sp.account_id = p.account_id
    left join short3 as sh
        on sh.payout_id = p.payout_id and sh.integration_id = p.integration_id and sh.account_id = p.account_id
),

verdicts as (
    select *, 1 as step from step1
    union all select *, 2 from step2
    union all select *, 3 from step3
)

-- One verdict per payout (a payout paying into two accounts keeps its best: matched, then the others).
select distinct on (v.integration_id, v.payout_id)
    v.integration_id, v.payout_id, v.verdict, v.step, v.transaction_id, v.credit_date, v.credit_amount
from verdicts as v
order by v.integration_id, v.payout_id,
    array_position(array['matched', 'ambiguous', 'split', 'short', 'missing', 'in_transit'], v.verdict)
"""

# ----------------------------------------------------------------------------------------- step 4
RECONCILIATION_SQL = """
create unlogged table bench_floor.payment_reconciliation as
with

settings as (
    select
        %(as_of)s::date as as_of,
        %(grace_days)s::integer as grace_days,
        %(fee_tolerance)s::numeric as fee_tolerance,
        %(split_tolerance)s::numeric as split_tolerance,
        %(platform_fee_rate)s::numeric as platform_fee_rate,
        %(affiliate_rate)s::numeric as affiliate_rate,
        %(coproducer_rate)s::numeric as coproducer_rate
),

payments as (
    select
        p.*,
        p.payment_status in ('paid', 'refunded', 'charged_back') as took_money,
        coalesce(t.grace_days, s.grace_days) as grace_days,
        coalesce(t.fee_tolerance, s.fee_tolerance) as fee_tolerance,
        coalesce(t.split_tolerance, s.split_tolerance) as split_tolerance,
        s.as_of
    from bench_floor.pay_payments as p
    cross join settings as s
    left join control.tolerances as t on t.tenant_id = p.tenant_id
),

judged as (
    select
        p.*,
        o.amount as payout_amount,
        o.payout_date,
        o.deadline as payout_deadline,
        v.verdict,
        v.transaction_id as bank_transaction_id,
        v.credit_date as bank_credit_date,
        v.credit_amount as bank_credit_amount,
        case when p.grace_days = 0 then p.expected_release_date else release_deadline.day end as release_deadline
    from payments as p
    left join bench_floor.pay_payouts as o on o.integration_id = p.integration_id and o.payout_id = p.payout_id
    left join bench_floor.pay_payout_verdicts as v
        on v.integration_id = p.integration_id and v.payout_id = p.payout_id
    left join bench_floor.pay_calendar as r on r.day = p.expected_release_date
    left join bench_floor.pay_calendar as release_deadline
        on release_deadline.is_business_day and release_deadline.ordinal = r.ordinal + p.grace_days
),

ruled as (
    select
        j.*,
        case
            when j.payment_status in ('failed', 'expired') then 1
            when j.payment_status = 'pending' then 2
            when j.payment_status = 'charged_back' then 3
            when j.payment_status = 'refunded' and j.payout_id is not null and j.refunded_date > j.payout_date then 4
            when j.payment_status = 'refunded' then 5
            when j.payout_id is null and coalesce(j.expected_release_date >= j.as_of, true) then 6
            when j.payout_id is null and j.release_deadline >= j.as_of then 7
            when j.payout_id is null then 8
            when j.verdict = 'matched' and j.bank_credit_date <= j.payout_deadline then 9
            when j.verdict = 'ambiguous' then 10
            when j.verdict = 'split' then 11
            when j.verdict = 'matched' then 12
            when j.verdict = 'short' then 13
            when j.verdict = 'missing' then 14
            else 15
        end as rule
    from judged as j
),

rates as (
    select
        r.platform, r.integration_id, r.payment_id,
        coalesce(product_rate.platform_fee_rate, tenant_rate.platform_fee_rate, s.platform_fee_rate) as platform_fee_rate,
        coalesce(product_rate.affiliate_rate, tenant_rate.affiliate_rate, s.affiliate_rate) as affiliate_rate,
        -- the chosen row's co-producer rate; null on that row (or no row): the var, never another row's
        case when product_rate.split_rate_id is not null then coalesce(product_rate.coproducer_rate, s.coproducer_rate)
             when tenant_rate.split_rate_id is not null then coalesce(tenant_rate.coproducer_rate, s.coproducer_rate)
             else s.coproducer_rate end as coproducer_rate
    from ruled as r
    cross join settings as s
    left join control.split_rates as product_rate
        on product_rate.tenant_id = r.tenant_id and product_rate.product_id = r.product_id
        and r.paid_date between product_rate.valid_from and coalesce(product_rate.valid_to, 'infinity')
    left join control.split_rates as tenant_rate
        on tenant_rate.tenant_id = r.tenant_id and tenant_rate.product_id is null
        and r.paid_date between tenant_rate.valid_from and coalesce(tenant_rate.valid_to, 'infinity')
        and product_rate.tenant_id is null
    where r.took_money
),

-- The gateways' split model; a sales platform's first part is its reported fee, then the affiliate,
-- the co-producer (0 at a gateway) and the producer.
split_base as (
    select r.platform, r.integration_id, r.payment_id, x.coproducer_rate, pf.platform_fee,
           case when r.affiliate_id is not null then round((r.gross - pf.platform_fee) * x.affiliate_rate, 2) else 0 end
               as affiliate_commission
    from ruled as r
    inner join rates as x on x.platform = r.platform and x.integration_id = r.integration_id and x.payment_id = r.payment_id
    cross join lateral (
        select case when r.platform in ('hotmart', 'kiwify') then r.fee else round(r.gross * x.platform_fee_rate, 2) end
            as platform_fee
    ) as pf
),

split_model as (
    select b.platform, b.integration_id, b.payment_id, b.platform_fee, b.affiliate_commission,
           case when b.platform in ('hotmart', 'kiwify')
                then round((r.gross - b.platform_fee - b.affiliate_commission) * b.coproducer_rate, 2)
                else 0 end as coproducer_commission
    from split_base as b
    inner join ruled as r on r.platform = b.platform and r.integration_id = b.integration_id and r.payment_id = b.payment_id
),

-- A sales platform's reported commissions against the model, role by role (sales in scope only).
role_differences as (
    select m.platform, m.integration_id, m.payment_id,
           r.reported_affiliate - m.affiliate_commission as affiliate_difference,
           r.reported_coproducer - m.coproducer_commission as coproducer_difference,
           r.stated_net - (r.gross - m.platform_fee - m.affiliate_commission - m.coproducer_commission)
               as producer_difference
    from split_model as m
    inner join ruled as r on r.platform = m.platform and r.integration_id = m.integration_id and r.payment_id = m.payment_id
    where m.platform in ('hotmart', 'kiwify') and r.split_in_scope
),

contracted as (
    select r.platform, r.integration_id, r.payment_id,
           (select round(r.gross * f.percent_fee / 100 + f.fixed_fee, 2)
            from control.fee_schedules as f
            where f.tenant_id = r.tenant_id and f.platform = r.platform and f.method = r.method
                and r.installments between f.installments_from and f.installments_to
                and r.paid_date between f.valid_from and coalesce(f.valid_to, 'infinity')
            order by f.valid_from desc limit 1) as contracted_fee
    from ruled as r
    where r.took_money
)

select
    r.tenant_id, r.platform, r.integration_id, r.integration, r.payment_id, r.order_id, r.product_id,
    r.affiliate_id, r.method, r.installments, r.payment_status,
    r.gross as gross_amount,
    r.fee as fee_amount,
    r.split_withheld as split_withheld_amount,
    case when r.took_money then r.gross - r.fee - r.split_withheld else 0 end::numeric(18, 2) as net_amount,
    r.expected_release_date,
    r.payout_id,
    r.payout_amount,
    r.payout_date,
    r.payout_deadline,
    case when r.verdict = 'matched' then r.bank_transaction_id end as bank_transaction_id,
    case when r.verdict = 'matched' then r.bank_credit_date end as bank_credit_date,
    case when r.verdict = 'matched' then r.bank_credit_amount end as bank_credit_amount,
    case
        when r.rule in (1, 5, 9) then 'RECONCILED'
        when r.rule in (2, 6, 7, 15) then 'PENDING'
        when r.rule in (10, 11) then 'MANUAL_REVIEW'
        else 'DISCREPANCY'
    end as status,
    (array['nothing_due', 'awaiting_payment', 'chargeback', 'refunded_after_payout', 'refunded',
           'awaiting_release', 'awaiting_payout', 'not_paid_out', null, 'ambiguous_credit', 'split_credit',
           'late_payout', 'amount_mismatch', 'payout_missing', 'awaiting_payout'])[r.rule] as reason,
    r.rule,
    case when r.rule = 12 then
        (select count(*) from bench_floor.pay_calendar as c
         where c.is_business_day and c.day > r.payout_date and c.day <= r.bank_credit_date)::integer
    end as days_late,
    m.platform_fee,
    m.affiliate_commission,
    r.gross - m.platform_fee - m.affiliate_commission - m.coproducer_commission as producer_amount,
    -- a gateway's withheld split against its model part; a sales platform compares role by role instead
    case
        when not r.took_money then null
        when r.platform in ('hotmart', 'kiwify') then case when r.split_in_scope then
            r.split_withheld - m.affiliate_commission - m.coproducer_commission end
        when r.split_withheld <> 0 then
            r.split_withheld - case when r.platform in ('stripe', 'mercadopago') then m.platform_fee
                                    else m.affiliate_commission end
    end as split_difference,
    case
        when not r.took_money then null
        -- a sale outside the scope (not the producer's, an ADDON, not in BRL) is not compared
        when r.platform in ('hotmart', 'kiwify') then case when r.split_in_scope then
            abs(coalesce(d.affiliate_difference, 0)) > r.split_tolerance
            or abs(coalesce(d.coproducer_difference, 0)) > r.split_tolerance
            or abs(coalesce(d.producer_difference, 0)) > r.split_tolerance
        end
        -- a flag: a payment whose gateway withheld nothing (null difference) has no mismatch
        else coalesce(
            r.split_withheld <> 0
            and abs(r.split_withheld - case when r.platform in ('stripe', 'mercadopago') then m.platform_fee
                                            else m.affiliate_commission end) > r.split_tolerance,
            false)
    end as split_mismatch,
    c.contracted_fee,
    case when r.took_money then r.fee - c.contracted_fee end as fee_difference,
    case
        when not r.took_money then null
        when c.contracted_fee is null then 0
        when r.fee - c.contracted_fee > r.fee_tolerance then r.fee - c.contracted_fee
        else 0
    end as overcharge_amount,
    case
        when not r.took_money then null
        when c.contracted_fee is null then 'no_contract'
        when r.fee - c.contracted_fee > r.fee_tolerance then 'overcharged'
        else 'ok'
    end as fee_status,
    r.gateway_net,
    -- the sales platforms' columns (null for a gateway, but the model's co-producer part, 0 there)
    r.subscription_id,
    m.coproducer_commission,
    -- the split's inputs, like its parts: null for a sale that took no money (it is not split)
    case when r.took_money then r.reported_affiliate end as reported_affiliate_commission,
    case when r.took_money then r.reported_coproducer end as reported_coproducer_commission,
    case when r.took_money then r.stated_net end as stated_net_amount,
    d.affiliate_difference,
    d.coproducer_difference,
    d.producer_difference
from ruled as r
left join split_model as m on m.platform = r.platform and m.integration_id = r.integration_id and m.payment_id = r.payment_id
left join role_differences as d
    on d.platform = r.platform and d.integration_id = r.integration_id and d.payment_id = r.payment_id
left join contracted as c on c.platform = r.platform and c.integration_id = r.integration_id and c.payment_id = r.payment_id
"""


def holidays_values() -> str:
    """The seed's holidays as a VALUES list: `(date '2015-01-01'), …`."""
    with HOLIDAYS_CSV.open(newline="") as handle:
        days = [date.fromisoformat(row["holiday_date"]) for row in csv.DictReader(handle)]
    return ", ".join(f"(date '{day.isoformat()}')" for day in days)


def payers_values() -> str:
    def literal(value: str | None) -> str:
        return "null::text" if value is None else "'" + value.replace("'", "''") + "'"

    # `%` doubled: the statement is executed with bound parameters
    return ", ".join(f"({literal(p)}, {literal(d)}, {literal(pattern)})" for p, d, pattern in PAYERS).replace("%", "%%")


def statements() -> list[str]:
    """The floor's statements in order (rendered once: holidays and payers inlined)."""
    return [
        CALENDAR_SQL.format(holidays=holidays_values()),
        ASAAS_SQL,
        "analyze bench_floor.pay_asaas_links",
        PAYMENTS_SQL.replace("{sp}", SP),
        PAYMENT_PAYOUTS_SQL,
        KIWIFY_PAYOUTS_SQL.replace("{sp}", SP),
        # each released sale looks up its first payout on or after R: by index, not a scan per sale
        "create index on bench_floor.pay_kiwify_payouts (integration_id, payout_date, created_at, payout_id)",
        "analyze bench_floor.pay_kiwify_payouts",
        KIWIFY_PAYMENT_PAYOUTS_SQL,
        PAYOUTS_SQL.replace("{sp}", SP),
        # The matching steps are CTEs over CTEs whose joins PostgreSQL estimates at a row or two and
        # loops over (each payout against every credit of the step before): at 1M payments that
        # was minutes. Every join there is an equality on keys of sets that fit in memory, so the
        # statement runs with nested loops off (the dbt model does the same, DECISIONLOG 41).
        "set local enable_nestloop = off",
        VERDICTS_SQL.replace("{{", "{").replace("}}", "}").replace("{payers}", payers_values()),
        "set local enable_nestloop = on",
        RECONCILIATION_SQL,
    ]


def run(conn: psycopg.Connection, params: dict) -> int:
    """Drop the floor's tables and run its statements (the caller times this); returns the payments written."""
    conn.execute(f"create schema if not exists {SCHEMA}")
    for table in STEP_TABLES:
        conn.execute(f"drop table if exists {SCHEMA}.{table}")
    conn.commit()
    for statement in statements():
        conn.execute(statement, params)
    conn.commit()
    return conn.execute(f"select count(*) from {FLOOR_TABLE}").fetchone()[0]


def parameters(
    as_of: date,
    *,
    value_tolerance: str = "0.10",
    grace_days: int = 3,
    fee_tolerance: str = "0.01",
    split_tolerance: str = "0.01",
    platform_fee_rate: str = "0.04",
    affiliate_rate: str = "0.30",
    coproducer_rate: str = "0",
) -> dict:
    """The statements' parameters: the as-of date and the dbt vars' defaults."""
    return {
        "as_of": as_of,
        "value_tolerance": value_tolerance,
        "grace_days": grace_days,
        "fee_tolerance": fee_tolerance,
        "split_tolerance": split_tolerance,
        "platform_fee_rate": platform_fee_rate,
        "affiliate_rate": affiliate_rate,
        "coproducer_rate": coproducer_rate,
    }
