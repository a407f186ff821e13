"""Mercado Pago (payment gateway and digital account, Brazil and Latin America): an account's payments
by last update and by release, and its Webhooks notifications.

- `client.py`: the HTTP client (the account's bearer token, `GET /users/me`, the offset-paged
  `GET /v1/payments/search` in windows the search can page through, MP's error bodies);
- `shapes.py`: the documented shapes of its answers and notifications;
- `provider.py`: `MercadoPagoProvider`, which checks the account and turns payments into `RawRecord`s;
- `webhook.py`: `MercadoPagoWebhook`, the stateless scheme that verifies and parses notifications.

MP gives every payment its own id, so there is no record parsing of ours to keep apart.

Facts relied on, with their source and how sure we are:

| fact | source | confidence |
|---|---|---|
| base `https://api.mercadopago.com`; `Authorization: Bearer <access token>`; tokens `APP_USR-…` (production), `TEST-…` (test credentials) | reference `providers-gateways.md` §3.3; SDK `mercadopago` 3.6.0 `config/config.py`, `config/request_options.py` | official |
| `GET /v1/payments/search` with `range` (`date_created`, `date_last_updated`, `date_approved`, `money_release_date`), `begin_date`/`end_date` (ISO-8601 or `NOW-…`), `sort`, `criteria` (`asc`/`desc`), `offset`, `limit` | MP API reference "Search payments" (`…/reference/online-payments/checkout-pro/search-payments/get.md`, `…/reference/payments/_payments_search/get`: "The range can refer to … money_release_date"); guide "Received payments management" (github mercadopago/devsite-docs `guides/additional-content/sales-processing/retrieving-payments.en.md`); SDK `resources/payment.py` | official |
| a release (`money_release_status` pending → released) moves `date_last_updated` | not found: MP's guide's example payment was last updated a week after its `money_release_date`, which fits either reading | UNCONFIRMED, so not relied on: a second pass by `range=money_release_date` (official, above) lists the releases of the window |
| `limit` at most 50 (default 30); `offset` at most 10000 | the same guide's pagination table; the SDK's `search_auto_paging_iter` asks for 100, so we ask for 50 | official, but contradicted by the SDK on `limit`; `offset` cap not restated elsewhere |
| answer `{"paging": {"total", "limit", "offset"}, "results": [payment…]}`; the end is offset + results ≥ total | the guide's example; SDK `pagination/iterator.py` stops on `offset >= paging.total` | official |
| dates are read to the millisecond (`yyyy-MM-dd'T'HH:mm:ss.SSSZ`, error 1001); `end_date` inclusive | the reference's error table; inclusiveness is our reading of "up to that date" | format official; inclusive end UNCONFIRMED (sending end - 1 ms is right either way) |
| the search returns payments of the last twelve months only | the reference's description | official; what "made" means (created or updated) UNCONFIRMED: a backfill older than that would come back short without an error |
| payment fields: `transaction_amount`, `fee_details[]{type, amount, fee_payer}`, `transaction_details.net_received_amount`, `installments`, `money_release_date`, `money_release_status`, `status`/`status_detail`, `refunds[]`, `external_reference`, `metadata`, `payment_method_id`, `payment_type_id`, `date_created`/`date_approved`/`date_last_updated` (with offset, e.g. `-04:00`), `currency_id`; amounts are JSON numbers in reais | reference §3.3; MP's payments OpenAPI (devsite-docs `reference/api-json/payments.json`) | ids, dates, status, amounts official; `money_release_status` values, `fee_details.type` list 3P |
| error bodies `{"message", "error", "status", "cause": [{code, description}]}`; gateway `{"code": "unauthorized", "message": "invalid access token"}` on 401; the policy layer's 403 `{"code": "PA_UNAUTHORIZED_RESULT_FROM_POLICIES", "blocked_by": "PolicyAgent", …}` | SDK `errors/exceptions.py` (`message`, `error`, `cause`); sdk-php issues #118, #81; ctmil/meli_oerp #112 | envelope official; which status means what 3P |
| 429 with `Retry-After`; the SDK retries 429/5xx | SDK `config/defaults.py`, `errors/exceptions.py` (`MPRateLimitError.retry_after`) | official (SDK) |
| `GET /users/me` → the token's account: `id`, `identification{type, number}` (its CPF/CNPJ), `site_id` | SDK `resources/user.py` (path); the fields from Mercado Libre/MP users API consumers | path official; `identification` 3P |
| releases are paid out only to a bank account of the account holder's own document | MP's withdrawal rules as integrators report them | UNCONFIRMED (3P) |
| Webhooks: `x-signature: ts=…,v1=…`, `x-request-id`, `?data.id=…&type=…`; HMAC-SHA256 hex of `id:{data.id};request-id:{x-request-id};ts:{ts};` keyed with the secret signature, absent segments dropped; no tolerance stated; `ts` "in milliseconds" but seconds in the example and the SDK | MP "Webhooks" page (devsite-docs, pt); reference §3.1; SDK `webhook/validator.py` (`WebhookSignatureValidator`) | official, `ts` unit contradictory |
| lower-cased alphanumeric `data.id` in the manifest | third-party code, MP's Orders notifications page | UNCONFIRMED; both forms accepted |
| topics `payment` (`payment.created`/`payment.updated`), `topic_chargebacks_wh`, `topic_merchant_order_wh`, others; body `{"id", "live_mode", "type", "date_created", "user_id", "api_version", "action", "data": {"id"}}` | MP "Webhooks" page; reference §3.2 | official for `payment`; other topics' bodies 3P |
| QR-code notifications are not signed | MP "Webhooks" page | official |
"""
