"""Hotmart (Brazilian platform for digital products, the merchant of record of its producers' sales):
a producer account's sales with their commissions and price details, and its webhooks.

- `client.py`: the HTTP client (OAuth client-credentials token, the cursor-paged sales listings
  by status and window or by transaction, Hotmart's error bodies);
- `shapes.py`: the documented shapes of its answers and notifications;
- `records.py`: epoch milliseconds, and the payout documents;
- `provider.py`: `HotmartProvider`, one pass per status over the three listings, then a re-read by
  transaction of the sales that may still change (`known_ids_from`);
- `webhook.py`: `HotmartWebhook`, the stateless scheme that verifies (hottok) and parses notifications.

Hotmart publishes no official client library (github.com/Hotmart-Org holds none for the API), so
nothing here is signed or called with one; the webhook tests build deliveries by hand.

Facts relied on, with their source and how sure we are (`../shared/reference/providers-gateways.md`
§6, §8, §9, completed with the sources named; "scraped reference" is im-voracity/hotmart-python
`docs/HOTMART-API-REFERENCE.md`, a copy of developers.hotmart.com/docs/en made 2026-03-24, and its
`src/hotmart/_auth.py`, `_config.py`, `models/sales.py`, `resources/sales.py`; "OpenAPI" is
thaleslaray/hotmart-mcp `specs/hotmart-api.json`):

| fact | source | confidence |
|---|---|---|
| token: `POST https://api-sec-vlc.hotmart.com/security/oauth/token?grant_type=client_credentials&client_id=…&client_secret=…`, header `Authorization: Basic <basic>` → `{access_token, token_type: "bearer", expires_in}`; then `Authorization: Bearer <token>` | reference §6.3; scraped reference; hotmart-python `_auth.py` | 3P-of-official, three sources agree |
| the "Basic" credential is shown as `Basic <base64(client_id:client_secret)>`; guides disagree on copying the `Basic ` prefix, so both forms are accepted | kondado.io/wiki/en/a/hotmart ("the second Basic is part of the parameter"); docs.nekt.com/sources/hotmart ("without the Basic prefix"); hotmart-python tests send `Basic dGVzdA==` | 3P |
| `expires_in` 86400 s | scraped reference; reference §9.5 leaves it open | 3P: not relied on, the answer's own `expires_in` is used |
| `client_secret` sent in the form body instead of the query string (our choice, so the secret is in no URL and no log); Hotmart's auth server is an OAuth2 server that reads form parameters | RFC 6749 §2.3.1/§4.4 puts client credentials in the form body; Hotmart's documented example uses the query | UNCONFIRMED that Hotmart reads the body: check on the first real credential (one line in `client._fetch_token`) |
| API base `https://developers.hotmart.com/payments/api/v1`; Hotmart's sandbox host `sandbox.hotmart.com` (does not resolve as of 2026-03) | reference §6.3; hotmart-python `docs/HOTMART-API-BUGS.md` #1 | 3P |
| `GET /sales/history`, `/sales/commissions`, `/sales/price/details` with `start_date`, `end_date` (epoch ms), `transaction`, `transaction_status`, `max_results`, `page_token`; item shapes as in `shapes.py` | reference §6.4; scraped reference; OpenAPI | 3P-of-official, consistent |
| without `transaction` or `transaction_status` the listings return only APPROVED and COMPLETE | reference §6.4; scraped reference; OpenAPI (history and price details) | 3P-of-official, consistent |
| `transaction_status` takes one status (a list is not documented) | OpenAPI (a single enum string); hotmart-python (one value) | 3P: hence one pass per status |
| `start_date`/`end_date` filter the order date (`purchase.order_date`) | not stated anywhere we could read ("Data inicial"); the lead's reading | UNCONFIRMED; whether `end_date` is inclusive is unknown too, so the last millisecond before the interval's end is sent |
| pagination: `page_info{total_results, next_page_token, prev_page_token, results_per_page}`; the last page has no `next_page_token` | reference §6.4; scraped reference "Pagination"; hotmart-python `history_autopaginate` stops on a missing token | 3P-of-official |
| maximum `max_results` | not found (examples page by 5, 10, 50) | UNCONFIRMED: 50 is asked for |
| purchase statuses: the 17 of `shapes.PURCHASE_STATUSES`; the webhook enum writes `DISPUTE` for `PROTESTED` | reference §6.4; scraped reference "Purchase Statuses"; OpenAPI | 3P-of-official |
| money: JSON numbers in the currency's major unit (`"value": 235.76`); commissions write their currency as `currency_value`, history and price details as `currency_code` | reference §0, §6.4; scraped reference examples | 3P-of-official |
| `order_bump` and `subscription.subscriber.code` appear in webhook purchases, not in the REST history item | scraped reference (webhook payload vs Sales History item); OpenAPI `SaleHistory` | 3P: typed when present, never required |
| errors: `{"error", "error_description"}`; 400 `invalid_parameter`/`invalid_token` (a bad parameter), 401 `unauthorized`/`token_expired`/`invalid_token`, 403 `unauthorized_client` (no permission), 404 `not_found` (URL), 429 `too_many_requests`, 5xx | scraped reference "HTTP Response Codes"; OpenAPI `ErrorResponse` | 3P-of-official |
| rate limit 500 calls per minute, 429 beyond, headers `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds) | reference §6.3; scraped reference "Rate Limits" | 3P: the transport honours `Retry-After`, else `RateLimit-Reset` |
| no settlement or release date, no payouts API | reference §6.4, §9.5; docs/payment-reconciliation-rules.md | 3P (absence) |
| webhooks: hottok in `X-HOTMART-HOTTOK` (also `hottok` in legacy bodies and in sample 2.0.0 purchases), no HMAC, no timestamp; envelope `{id, creation_date (ms), event, version "2.0.0", data}`; the events of `webhook.PURCHASE_EVENTS` and `OTHER_EVENTS` | reference §6.1, §6.2; scraped reference "Webhooks"; api-evangelist/hotmart `asyncapi/hotmart-webhooks.yml` (via the reference) | 3P-of-official; the header `X-Hotmart-Webhook-Token` of one site contradicts every other source and is not used |

Decided when the client met the sandbox (branch sales-int; the sandbox is `sandbox/providers/hotmart/`):

- **`client_secret` on the token request**: Hotmart's docs put it in the query; the client sends
  it in the form body (no secret in URLs or logs). The sandbox now reads the query or the form
  body (a form field wins), as an OAuth2 token endpoint does (RFC 6749 §2.3.1, §4.4): which one
  real Hotmart reads stays UNCONFIRMED (one line in `client._fetch_token`).
- **`max_results`**: the client asks 50, the sandbox caps at 500; Hotmart documents no maximum.
  Compatible (the client follows `next_page_token`, whatever the page size served); 50 kept until
  a larger page is confirmed not to be refused.
- **Cost** (`provider.py`): warranty passes over a 37-day look-back (Hotmart's guarantee is 7,
  15, 21 or 30 days: help.hotmart.com, OFFICIAL) for the statuses a paid sale moves into, APPROVED
  final for known ids, webhooks re-opening later changes. Measured on the served sandbox (one
  account, 32 sales a day, 30-day guarantee, the day after 39 synced days): 2,609 calls a sync
  before (2,557 of them reads by transaction), 149 after, landing the same rows.
- **Errors**: refusals read `hotmart: GET <path> answered <status>: <error>: <description>`.
"""
