"""The sandbox's PushinPay: the stores' PIX charges (cash-ins) at PushinPay, PushinPay's daily sweeps
into their bank accounts, a fake PushinPay API (read a charge by id, create one) and its webhooks.

- `knobs`: PushinPay's `WorldConfig` fields (`pushinpay_*`, on top of the checkout's shared rates);
  `generator`: `PushinpayGenerator` (accounts, charges and their fates, contracts, sweeps);
  `records`, `facts`: what it generated (`PushinpayFacts`, a `GatewayFacts`); `payer`: PushinPay
  as the payer of bank credits.
- `wire`: PushinPay's JSON (and form) shapes; `api`: the fake API; `options`: its server knobs;
  `webhooks`: its notifications as `Delivery`s; `platform`: `PUSHINPAY`, the registry's line.

Facts relied on, and how sure we are (`../shared/reference/providers-gateways.md` §5, §8, §9,
completed from the sources named):

- **Read a charge** — `GET /api/transactions/{id}` answers `{id, status, value, description,
  payment_type, created_at, updated_at, webhook_url, split_rules, fee, total, end_to_end_id,
  payer_name, payer_national_registration, webhook, emails, pix_details{id, expiration_date, emv,
  created_at, updated_at}, transaction_product}`, `id` upper-case, `value` a string of centavo
  digits (`"1333"`), timestamps `2025-09-26T13:15:48.027000Z`, `fee`/`total` null; not found: 404
  with the body `[]`. OFFICIAL: the "Consultar PIX" page, app.theneo.io/pushinpay/pix/pix/consultar-pix.
  **No paid time exists on the wire**: `updated_at` is the latest status change (so the payment
  time while a charge is `paid`, the refund time once `refunded`); the warehouse's `paid_at` is
  when it first sees `paid` (docs/payment-reconciliation-rules.md), which a replay of the
  deliveries gives as `Delivery.sent_at`.
- **Create a charge** — `POST /api/pix/cashIn` `{value (centavos, ≥ 50), webhook_url?, split_rules?:
  [{value, account_id}]}` → `{id, qr_code, status: "created", value, webhook_url, qr_code_base64,
  webhook, split_rules, end_to_end_id, payer_name, payer_national_registration}`; 422
  `{"message": "O campo value deve ser no mínimo 50.", "errors": {"value": [...]}}`; at most 50 % of
  the value in splits. OFFICIAL: the "Criar PIX" page (same site; copies in third-party repositories).
  The other 422 messages are Laravel's pt-BR wording (our choice).
- **Statuses** — `created`, `paid`, and for a charge never paid `canceled` (the official response
  examples) or `expired` (the official field description; third-party guides) — the docs disagree,
  so `pushinpay_unpaid_status` picks one (default `canceled`). `refunded` for an estorno is
  assumed (the docs say webhooks are sent on refund, not with which status). When a charge lapses
  is not documented (the official example's `expiration_date` is in 2081; guides say 15 min): our
  choice, `pushinpay_charge_ttl_hours` (96 h).
- **Auth** — `Authorization: Bearer <token>` (OFFICIAL). Tokens are Laravel Sanctum personal tokens,
  `<id>|<40 letters/digits><crc32b hex of those 40>` (every token in third-party code has that shape
  and checksum; Sanctum's `HasApiTokens::createToken`). A bad token answers Sanctum's 401
  `{"message": "Unauthenticated."}` (the docs list 401 without a body).
- **Fees, net, release** — none on the wire (reference §5.1): the fee and the release term are the
  tenant's contract (`FeeScheduleRow` method `pix`, `release_days`); the figures are illustrative,
  PushinPay publishes no price list we could read.
- **Webhooks** — sent to the charge's `webhook_url` when its status changes, 3 retries (OFFICIAL,
  "Criar PIX"); the merchant's token comes back in `x-pushinpay-token` (third-party consensus, six
  or more receivers; UNCONFIRMED officially); body `{id, status, value, end_to_end_id, payer_name,
  payer_national_registration}` (third-party, consistent), JSON by default, form-encoded for an
  account that says so (receivers parse both). No HMAC, no timestamp, no event id.
- **Limits** — a 429 is documented without a figure (our general limit: 360/min, UNCONFIRMED);
  about one read per minute per transaction is reported by third parties (UNCONFIRMED): an option,
  off by default (`PushinpayOptions.transaction_rate_limit`).
- **No list endpoint, no statement, no payout API** (reference §5.1): the sweep that pays a store is
  only seen in its bank statement, from `PUSHIN PAY LTDA` (the merchant name PushinPay's own QR
  codes carry) with a **synthetic CNPJ** (`payer.py`: the real one is unconfirmed).
- **No official SDK**: the `pushinpay` package on PyPI ("Wrapper para a API PushinPay") and the
  Java TechSete/pushin-pay-sdk are third-party wrappers (the Java one models the read shape above,
  `created_at`/`updated_at` included), so no official-client check exists for PushinPay.
"""

NAME = "pushinpay"  # its URL prefix (/pushinpay), its name in credentials, faults, logs and options
