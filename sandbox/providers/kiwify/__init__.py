"""The sandbox's Kiwify: the stores' producer accounts at Kiwify (a merchant of record), their sales,
Kiwify's daily payouts into their bank accounts, a fake Kiwify public API and its signed webhooks.

- `knobs` (`kiwify_*`), `generator` (accounts, the shared sales story
  `sandbox.core.payments.sales` with Kiwify's terms, contract, payout objects and their bank
  credits), `records`, `facts` (`KiwifyFacts`, a `GatewayFacts` whose truth is the rules' sales
  truth with the payout-by-date rule), `payer`; `wire`, `api`, `options`, `webhooks`, `platform`
  (`KIWIFY`, the registry's line).

Facts relied on, and how sure we are (`../shared/reference/providers-gateways.md` §7, §8, §9):

- **Auth** — `POST https://public-api.kiwify.com/v1/oauth/token` (form `client_id`, `client_secret`)
  → a JWT bearer token (its payload names `store_api_integration_id`); it expires in 96 h; every call
  also sends `x-kiwify-account-id` (OFFICIAL: docs.kiwify.com.br "Autenticação" and
  `/api-reference/auth/oauth` OpenAPI). `token_type`, `scope` wording: ours. The 401 body is not
  documented: `{"error", "message"}` is our choice (UNCONFIRMED).
- **Sales** — `GET /v1/sales` with required `start_date`/`end_date` at most 90 days apart,
  `status`, `payment_method`, `product_id`, `affiliate_id`, `view_full_sale_details`, `page_size`,
  `page_number` (OFFICIAL OpenAPI `/api-reference/sales/list`); `{pagination{count, page_number,
  page_size}, data}` (3P). Date format `YYYY-MM-DD` (Kiwify's MCP tool docs; UNCONFIRMED for the REST
  API), read here as São Paulo dates on `created_at`; max `page_size` 100 (3P); `count` = the total
  matching (UNCONFIRMED: the docs' example is ambiguous). `GET /v1/sales/{id}`: the full sale, shape
  from the official example (`/api-reference/sales/single`: `payment{charge_amount, net_amount, fee,
  …}` integer centavos, `revenue_partners[]`, `affiliate_commission`). We also set `refunded_at` on
  a chargeback (the chargeback's time; UNCONFIRMED), as the rules need that date.
- **Payouts** — `GET /v1/payouts` (`page_size`, `page_number`) → `{pagination, data}`, items
  `{id, amount (centavos), status, legal_entity_id, created_at, updated_at}` (OFFICIAL:
  `/api-reference/finance/payouts/list` and `/single`, whose example status is `pending_review`;
  `paid` for a made payout is our choice). They name no sales (the rules' payout-by-date reading).
- **Statuses** — `paid`, `refused` (also an unpaid PIX/boleto that lapsed: the rules), `refunded`
  (after a `refund_requested` of 2–48 h), `chargedback`, `waiting_payment` (3P enum, reference §7.3).
- **Webhooks** — body fields per reference §7.2 (3P real payloads), event names of
  `webhook_event_type` (3P), a renewal sending a purchase AND a subscription event (OFFICIAL);
  signature = query `signature`, lowercase hex HMAC-SHA1 of the raw body keyed with the webhook
  token (OFFICIAL, `/api-reference/webhooks/receiving`). Timestamps as `YYYY-MM-DD HH:MM` São Paulo
  (samples); `funds_status` values `waiting`/`released` are our guess (UNCONFIRMED enum).
- **Rate limit** — none published: 100/min per account is ours (UNCONFIRMED).
- **Account id** — 15 letters and digits (the shape of Kiwify store ids in webhook samples;
  UNCONFIRMED for the API's account id).
- **Payer** — CNPJ 36.149.947/0001-06 (kiwify.com/software-license-terms names the licensor
  "Kiwify" with it); the **legal name is unconfirmed** ("KIWIFY PAGAMENTOS TECNOLOGIA E SERVICOS
  LTDA" is a plausible rendering), the PIX account synthetic.
- **Fees** — 8.99 % + R$ 2.49 per sale is Kiwify's published price; the contract rows are ours.
- **No official Python SDK** (PyPI has only the third-party `kiwify-userapi`), so no official-client check.
"""

NAME = "kiwify"  # its URL prefix (/kiwify), its name in credentials, faults, logs and options
