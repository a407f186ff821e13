"""Kiwify (Brazilian platform for digital products: courses, e-books, memberships): a producer's sales and
payouts, and its order webhooks.

Kiwify is the merchant of record: the buyer pays Kiwify, which keeps its fee, pays co-producers and
affiliates their commissions and deposits the producer's share later (docs/payment-reconciliation-
rules.md, "Sales platforms"). An integration is one producer account.

- `client.py`: the HTTP client (OAuth client credentials, `GET /v1/sales` in 90-day windows and
  numbered pages checked against `count`, `GET /v1/sales/{id}`, `GET /v1/payouts`, Kiwify's error
  answers);
- `shapes.py`: the documented shapes of its answers and notifications;
- `records.py`: centavos as exact reais, its webhook dates, payout documents;
- `provider.py`: `KiwifyProvider` (sales created in the interval, unfinished sales re-read by id,
  payouts);
- `webhook.py`: `KiwifyWebhook`, the stateless scheme that verifies (`?signature=` HMAC-SHA1) and
  parses notifications. It has webhooks; no timestamp, so no staleness check.

No official client library exists (no SDK on GitHub or PyPI; Kiwify's own MCP server wraps the REST
API), so nothing here can be checked against one; tests sign notifications with the standard
library's HMAC.

Facts, their sources and how sure we are (`../shared/reference/providers-gateways.md` §7, §8, §9,
completed with the sources named):

| fact | source | confidence |
|---|---|---|
| base `https://public-api.kiwify.com/v1`; `POST /v1/oauth/token`, form `client_id`, `client_secret` → `{access_token, token_type: "Bearer", expires_in: 86400, scope}` (`expires_in` an integer in the example, a string in the schema) | docs.kiwify.com.br `/api-reference/auth/oauth` (and its OpenAPI `.md`) | official |
| every call: `Authorization: Bearer <token>` and `x-kiwify-account-id: <account id>` (account ids look like `RpL2PsVt7gEN50Q`) | the same docs, every endpoint's "Authorizations"; pauloFroes/mcp-kiwify `src/client.ts` | official |
| `GET /v1/sales`: `start_date`, `end_date` required, at most 90 days apart; optional `status`, `payment_method`, `product_id`, `affiliate_id`, `view_full_sale_details` (bool), `page_size`, `page_number`, `updated_at_start_date`, `updated_at_end_date`; answer `{pagination{count, page_number, page_size}, data[]}` | docs `/api-reference/sales/list` | official (parameters typed as bare strings, no descriptions) |
| `start_date`/`end_date` filter by creation date, written `YYYY-MM-DD` | n8n Kiwify nodes ("Data de Criação" vs "Data de Atualização"; "format: YYYY-MM-DD"); Kiwify's MCP wrapper says ISO 8601 | 3P, medium; the zone Kiwify reads them in is unknown, hence the one-day margin (client.py) |
| `page_size` at most 100, `page_number` from 1 | pauloFroes/mcp-kiwify `src/tools/sales.ts` ("max 100", "1-indexed"); third-party syncs page with 100 | 3P, medium |
| `view_full_sale_details=true` lists each sale with its payment breakdown, partners and affiliate commission | mcp-kiwify `sales.ts` ("Include payment breakdown, tracking UTM, card info, and commissions"); n8n node | 3P, medium: the listed item is held to the `GET /v1/sales/{id}` shape, so a listing without it fails loudly |
| `GET /v1/sales/{id}`: `id, reference, type, created_at, updated_at` (ISO-8601 `…Z`), `status, payment_method, net_amount, currency, approved_date, refunded_at, installments, parent_order_id, sale_type, product{id, name}, payment{charge_amount, charge_currency, net_amount, product_base_price, settlement_amount, settlement_currency, fee, fee_currency, sale_tax_rate, sale_tax_amount}, revenue_partners[]{account_id, legal_name, document_id, percentage, net_amount_split, charge_amount_split}, affiliate_commission{name, document, email, amount}`; amounts integer centavos | docs `/api-reference/sales/single` (example and field list) | official; `subscription_id` is NOT in the sale's documented fields (typed when present) |
| fee and net may be in another currency than the charge (`fee_currency`, `settlement_currency` `USD` in the example) | the same example | official: the currencies land with the amounts, for staging to check |
| sale statuses `approved, authorized, chargedback, paid, pending, pending_refund, processing, refunded, refund_requested, refused, waiting_payment` | docs `/api-reference/sales/list` (`status` enum) | official |
| `GET /v1/payouts/{id}` → `{id, amount (centavos), status ("pending_review"), legal_entity_id, created_at, updated_at}` | docs `/api-reference/finance/payouts/single` | official |
| `GET /v1/payouts`: `page_size`, `page_number`, `legal_entity_id`; no date filter; answer in the sales list's envelope | mcp-kiwify `src/tools/finance.ts`; n8n "Listar Saques" | parameters 3P; the envelope and the order UNCONFIRMED (assumed like sales) |
| rate limit about 100 requests a minute, 429 when exceeded | mcp-kiwify `src/client.ts` ("Rate limit exceeded (100 req/min)") | 3P; no `Retry-After` documented (the transport honours one if sent) |
| error bodies: not documented; `{message}` read by third-party clients, `{error: {code, message}}` in one AI-written summary | mcp-kiwify `client.ts` | UNCONFIRMED: any JSON object is taken as Kiwify's error; which status a wrong `x-kiwify-account-id` gets is unknown (this client reads 403 or 404 as NotLinkedError) |
| webhook: `POST` to the registered URL + `?signature=` (or `&signature=`), lower-case hex HMAC-SHA1 (40 chars) of the raw body keyed with the webhook token; the token is never sent; no auth header; redirects not followed; a webhook without a token is signed with an empty key | docs `/api-reference/webhooks/receiving` ("Receber e validar webhooks") | official; the page's test vector could not be retrieved (not captured in the reference nor in the search corpus), so tests use RFC 2202's HMAC-SHA1 vectors and the standard library |
| no timestamp and no event id in notifications: dedupe on `order_id` + `webhook_event_type` | reference §8; docs (no such header or field) | official (absence) |
| `webhook_event_type` values `order_approved, order_rejected, order_refunded, chargeback, billet_created, pix_created, subscription_renewed, subscription_late, subscription_canceled`; triggers `compra_aprovada, compra_recusada, compra_reembolsada, chargeback, boleto_gerado, pix_gerado, carrinho_abandonado, subscription_*` | reference §7.2; docs receiving page's example (`order_approved`, `order_status: "paid"`) | triggers official; the value mapping 3P (consistent across receivers) |
| notification fields (`order_id, order_status, payment_method, installments, store_id, subscription_id, created_at, updated_at, approved_date, refunded_at` as `"YYYY-MM-DD HH:MM"`, `Product`, `Customer`, `Commissions{charge_amount, kiwify_fee, my_commission, commissioned_stores[], funds_status, estimated_deposit_date, deposit_date}`, `Subscription`); some receivers record the body wrapped in `{"order": …}` | reference §7.2; third-party receivers' captured payloads | 3P; the dates' zone (read as São Paulo) UNCONFIRMED; amounts seen as integers and as digit strings |
| cart abandonment: flat `{id, status: "abandoned", checkout_link, email, name, phone, product_id, product_name, store_id, created_at}` | reference §7.2 | 3P |
| not to be confused with Kiwify's banking API (`conta-public-api.kiwify.com`, Ed25519-signed requests and webhooks) | docs `/api-reference/banking/*` | official; not used |

Decided when the client met the sandbox (branch sales-int; the sandbox is `sandbox/providers/kiwify/`):

- **`count`**: both read it as the total of the whole query (the end signal `page_number *
  page_size >= count` only works so); Kiwify's example does not settle it. The readings differ
  only when the last page is full, so the client then asks for one more page and requires it
  empty (`client._pages_proven_complete`): a per-page `count` fails loudly instead of cutting a
  listing. One extra call when the count is a multiple of the page size.
- **Sales window dates**: `YYYY-MM-DD` (3P), zone undocumented. The sandbox reads them as São
  Paulo dates, inclusive, on `created_at`; the client asks for the interval's São Paulo dates
  widened by a day on each side and cuts by `created_at`, so it is exact under any zone within a
  day of São Paulo. Compatible; nothing changed.
- **A wrong `x-kiwify-account-id`**: status undocumented; the sandbox answers 401 (as for a
  missing header). The client reads a 401 or 403 JSON that outlives a freshly issued token as
  NotLinkedError naming the account (a refusal at the token endpoint stays AuthenticationError).
- **`paid` final for known ids** (kept): Kiwify notifies refunds and chargebacks (official
  triggers `compra_reembolsada`, `chargeback`), and `ingestion.sync.known_ids` now re-opens an id
  for any sighting in the window, so the sync reads a refunded or charged-back sale by id the day
  its notification lands (tests/providers/kiwify/test_kiwify_served.py). A refund whose
  notification never arrives reaches raw only when a sync's window covers the sale's creation
  date (a backfill); `GET /v1/sales?status=refunded` over a guarantee look-back would close that
  at a few calls a sync, left for when Kiwify's guarantee terms are sourced.
- **Wrong credentials** read `kiwify refused the credentials (401)` like every provider.
"""
