"""The sandbox's Stripe (a Brazilian Stripe account, BRL): checkout payments taken by card and PIX,
their fees, application fees, refunds, disputes, balance transactions and automatic daily payouts,
the fake API (`/v1/…`) serving them and the webhook events Stripe would send.

- `knobs`: `StripeKnobs` (the checkout's shared knobs plus `stripe_*`); `generator`:
  `StripeGenerator`, Stripe's part in building a world; `records`: what it generated; `payer`:
  Stripe as the payer of bank credits; `facts`: `StripeFacts` (the wire objects and the generic
  `PaymentFacts` / `PayoutFacts` of docs/payment-reconciliation-rules.md).
- `wire`: Stripe's JSON objects; `api`: the fake API; `options`: its server knobs; `webhooks`:
  signed event deliveries; `platform`: `STRIPE`, the entry the sandbox registry lists.

Facts relied on, with sources ([OFFICIAL] = Stripe's docs or its official library, stripe-python
16.1.0 as installed; [3P] = third-party material; [CHOICE] = the sandbox's own contract where
nothing public settles it):

- Auth: `Authorization: Bearer sk_…`; stripe-python sends exactly that (`_api_requestor.py`), and
  HTTP Basic with the key as user name is accepted too (curl `-u sk_…:`). A bad key → 401
  `{"error": {"message": "Invalid API Key provided: sk_test_…", "type": "invalid_request_error"}}`;
  no key → 401 with Stripe's "You did not provide an API key" message. [OFFICIAL for the envelope:
  stripe-python `_api_requestor.specific_v1_api_error`; 3P for the wording]
- Lists: `{"object": "list", "data", "has_more", "url": "/v1/…"}`, newest first, `limit` 1–100
  (default 10), `starting_after` / `ending_before` object ids, `created` as an integer or
  `created[gt|gte|lt|lte]`; balance transactions also filter on `payout`, `type`, `source`,
  `currency`; payouts on `arrival_date` and `status`. [OFFICIAL: stripe-python `_list_object.py`
  (auto-paging sends `starting_after` = the last id and stops on `has_more: false`), the
  `*_list_params.py` files; reference providers-gateways.md §2.3]
- `GET /v1/balance_transactions?payout=po_…` lists what an automatic payout paid out, the payout's
  own `payout` transaction (description `STRIPE PAYOUT`, amount −payout) included. [3P:
  airbytehq/airbyte#46499 shows such a listing from a Stripe account]
- Balance transactions: `amount`, `fee` = Σ `fee_details[].amount`, `net` = amount − fee,
  `fee_details[].type` ∈ `stripe_fee | application_fee | tax`; a Connect application fee shows as
  an `application_fee` fee detail of the connected account's charge. [OFFICIAL: stripe-python
  `_balance_transaction.py`; reference §2.3–2.4; 3P fixture application_fee 105 + stripe_fee 152]
- Money: integer minor units (centavos), currency `brl`. [OFFICIAL]
- `available_on` and `arrival_date` are dates Stripe writes as the Unix timestamp of their
  midnight UTC; their date is the UTC date of the timestamp (docs/payment-reconciliation-rules.md
  reads them so). [3P: the airbyte listing above; consistent with Stripe's dashboard dates]
- Rate limit: 25 requests per second in test mode (100 live). The sandbox counts 1,500 per
  minute per key and endpoint; over it: 429 in the envelope without a code (none since API
  version 2015-09-08: "no longer return a `rate_limit` error code", docs.stripe.com/changelog/
  2015-09-08). [OFFICIAL: docs.stripe.com/rate-limits, the changelog; the 429 message is 3P]
- Every answer, errors included, carries a `Request-Id` header. [OFFICIAL: docs.stripe.com/api/
  request_ids]
- Webhooks: `Stripe-Signature: t=<unix s>,v1=<hex HMAC-SHA256 of "{t}.{body}" keyed with the
  whsec_ secret as UTF-8>`; events `{"id": "evt_…", "object": "event", "api_version", "created",
  "data": {"object"}, "livemode", "pending_webhooks", "request": {"id", "idempotency_key"},
  "type"}`. [OFFICIAL: stripe-python `_webhook.py`, `_event.py`; reference §2.1–2.2] The API version
  events name is stripe-python 16.1.0's `_ApiVersion.CURRENT` (`2026-10-28.endive`). [CHOICE]
- Payer of the bank credits: STRIPE BRASIL SOLUCOES DE PAGAMENTO - INSTITUICAO DE PAGAMENTO LTDA.,
  CNPJ 22.121.209/0001-46 (valid check digits). [3P: the Banco Central's register of payment
  institutions (olinda.bcb.gov.br BcBase `EntidadesSupervisionadas`) as dumped in a public
  repository, and two independent write-ups giving the same CNPJ; stripe.com/br's institutional
  pages name "Stripe Brasil Soluções de Pagamento Ltda."] Its sending bank account is synthetic,
  and TED is the sandbox's choice of method. [CHOICE]
- Fees (the tenants' contract, `control.fee_schedules`): card at once 3.99 % + R$ 0.39 and PIX
  1.19 %, Stripe Brazil's published standard rates [3P: merchants quoting Stripe's BR pricing];
  card in 2–6 instalments 5.49 % + R$ 0.39, 7–12 instalments 6.99 % + R$ 0.39, and one tenant's
  card-at-once rate renegotiated to 3.49 % + R$ 0.39 mid-world [CHOICE]. Dispute fee R$ 15.00
  [CHOICE; Stripe's BR figure not confirmed].
- Release: card funds `stripe_card_release_days` (30) calendar days after payment, rolled to a
  business day; PIX `stripe_pix_release_days` (2) business days. [CHOICE, from the brief: Stripe BR
  card settlement is not confirmed here] Payouts are automatic and daily: each business day D one
  payout of every balance transaction available by D and not yet paid out, `arrival_date` = D,
  created on D. A PIX that expires becomes a `failed` charge with `failure_code`
  `payment_intent_payment_attempt_expired` (a real Stripe error code; its use on a PIX charge is
  UNCONFIRMED); balance transactions of PIX charges have `type` `charge` (Stripe may type some
  local methods `payment`: UNCONFIRMED).
"""

NAME = "stripe"  # its URL prefix (/stripe), its name in credentials, faults, logs and options
