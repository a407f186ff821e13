"""The sandbox's Hotmart: the stores' producer accounts at Hotmart (a merchant of record), their
sales, Hotmart's daily deposits into their bank accounts, a fake Hotmart API and its webhooks.

- `knobs` (`hotmart_*`, on top of the checkout's shared rates); `generator` (accounts, the shared
  sales story `sandbox.core.payments.sales` with Hotmart's terms, contract, deposits and their
  bank credits); `records`, `facts` (`HotmartFacts`, a `GatewayFacts` whose truth is the rules'
  sales truth with the daily-deposit payout rule); `payer` (Hotmart BR as the bank shows it).
- `wire` (Hotmart's JSON, money as two-decimal JSON numbers), `api` (the fake API), `options`,
  `webhooks` (2.0.0 envelopes with the hottok), `platform` (`HOTMART`, the registry's line).

Facts relied on, and how sure we are (`../shared/reference/providers-gateways.md` §6, §8, §9):

- **Auth** — `POST https://api-sec-vlc.hotmart.com/security/oauth/token?grant_type=client_credentials
  &client_id=…&client_secret=…` with `Authorization: Basic <basic>` (the Basic string Hotmart shows
  with the credential = base64 of `client_id:client_secret`) → `{access_token, token_type: "bearer",
  expires_in, scope, jti}` (3P-of-OFFICIAL: im-voracity/hotmart-python `_auth.py` and
  docs/HOTMART-API-REFERENCE.md, reference §6.3). `expires_in` 86400 (one source). The real token
  is a gzip+base64 JWT (hotmart-python docs/HOTMART-API-BUGS.md #5): ours is a plain HS256 JWT,
  opaque to clients either way. The parameters are read from the query (Hotmart's documented
  form) **or** from a form body (a form field wins): our client sends `client_secret` in the body
  so the secret is in no URL and no log (RFC 6749 §2.3.1/§4.4 put client credentials in the form
  body); whether real Hotmart reads the body is UNCONFIRMED, and a sandbox accepting only the query
  would make that choice for it (decided in the integration, sales-int).
- **Errors** — `{error, error_description}` (hotmart-python HOTMART-API-BUGS.md shows
  `{"error":"invalid_parameter","error_description":"The request was unacceptable..."}` from the
  real API). The 401 wordings (`invalid_client` / `unauthorized` / `invalid_token`) are Spring
  Security OAuth2's, our choice (UNCONFIRMED).
- **Sales endpoints** — `/payments/api/v1/sales/history`, `/sales/commissions`,
  `/sales/price/details`; filters, `max_results` / `page_token`, `page_info{total_results,
  next_page_token, prev_page_token, results_per_page}`, epoch-ms dates, item shapes (hotmart-python
  `models/sales.py`, reference §6.4). **The default filter** (only APPROVED and COMPLETE without
  `transaction` / `transaction_status`) is documented (reference §6.4). UNCONFIRMED: the default and
  maximum `max_results` (10 and 500 here), whether the last page omits `next_page_token` or sends
  null (we omit it), item order (order date ascending here), and the comma-separated status list.
- **Rate limit** — 500 calls/min, 429 with `RateLimit-Limit/Remaining/Reset` (3P, reference §6.3).
- **Statuses** — the purchase status enum (reference §6.4); a declined card is CANCELLED, a lapsed
  PIX/boleto EXPIRED, a declined subscription charge OVERDUE (event PURCHASE_DELAYED), the warranty
  elapsing COMPLETE, a dispute PROTESTED then CHARGEBACK. Which status a delayed renewal shows is
  our reading (UNCONFIRMED).
- **No release date** on the wire (reference §6.4, "NOT FOUND"): R comes from the contract's
  `release_days` (docs/payment-reconciliation-rules.md); Hotmart has no payouts API, so its deposits
  are seen only in the bank, one per business day (the rules' daily deposit).
- **Webhooks** — envelope `{id, creation_date (ms), event, version "2.0.0", data}`, header
  `X-HOTMART-HOTTOK` (no HMAC, no timestamp), `data` fields and the MARKETPLACE commission
  (Hotmart's fee: an inference from Hotmart's test payload) per reference §6.1–6.2 (api-evangelist
  capture of developers.hotmart.com). Whether `hottok` is also in the 2.0.0 body is unconfirmed: we
  send only the header.
- **Payer** — Launch Pad Tecnologia, Serviços e Pagamentos Ltda. ("Hotmart BR"), CNPJ
  13.427.325/0001-05 (Hotmart's Payment Policy for Brazil and Glossary, hotmart.com/legal); how it
  transfers (TED here) and its own bank account are our choice.
- **Fees** — 9.9 % + R$ 1.00 per sale is Hotmart's widely published Brazilian price; the contract
  rows (and the mid-world renegotiation) are the sandbox's.
- **No official Python SDK**: `hotmart-python` (PyPI, im-voracity) and `hotmart-mcp`, `tap-hotmart`
  are third-party (checked in the PyPI package list), so no official-client check exists.
"""

NAME = "hotmart"  # its URL prefix (/hotmart), its name in credentials, faults, logs and options
