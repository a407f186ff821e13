"""PushinPay (Brazilian PIX payment institution): PIX charges (cash-in), re-confirmed by id, and webhooks.

- `client.py`: the HTTP client (bearer token, `GET /api/transactions/{id}`, PushinPay's error answers);
- `shapes.py`: the documented shapes of the transaction and of a notification;
- `records.py`: centavos as exact reais, one spelling of ids, form bodies, payout documents;
- `provider.py`: `PushinPayProvider`, which re-reads known charges by id (it has no list endpoint);
- `webhook.py`: `PushinPayWebhook`, the stateless scheme that verifies and parses notifications.

Facts, their sources and how sure we are (`../shared/reference/providers-gateways.md` §5, §8, §9,
completed with the sources named):

- Hosts: production `https://api.pushinpay.com.br`, sandbox `https://api-sandbox.pushinpay.com.br`
  (enabled by support for accounts that exist in production). Sure: the co-founder's dev.to posts
  ("Pix na API da PushinPay…", "Pix em Laravel com a API da PushinPay…") and many receivers agree.
- Auth: `Authorization: Bearer <token>`, `Accept: application/json`, `Content-Type:
  application/json` on every request. Sure: official docs (app.theneo.io/pushinpay, "Criar PIX",
  "Consultar PIX": "Colocar no formato Bearer TOKEN"). The token is issued in the panel; the tokens
  seen in third-party code look like Laravel Sanctum personal tokens, `<digits>|<40-48 letters and
  digits>` (medium: several examples, no official statement), so we send it exactly as given and
  only refuse one that is empty or holds whitespace (AuthenticationError).
- Read one charge: `GET /api/transactions/{id}` → `{id, status, value, description, payment_type,
  created_at, updated_at, webhook_url, split_rules, fee, total, end_to_end_id, payer_name,
  payer_national_registration, webhook, emails, pix_details, transaction_product}`; not found: a
  404 whose body is `[]`. Sure for the fields and the `[]` (official "Consultar PIX" page); the path
  itself is not shown on the page we could read, but every one of many third-party clients uses it
  (high). Third-party records of the 404 also show `{"error": "PIX não encontrado", "status":
  "not_found"}` (one source), accepted too, as is Laravel's `{message}` envelope of the documented
  422.
- Statuses: `created`, `paid`, `canceled` (official); `expired` (third-party: receivers' types, a
  guide says after 15 minutes), `refunded` for an estorno (assumed: the docs say webhooks are sent
  on refund but not which status); `pending`, `cancelled`, `approved` appear in one AI-written
  guide only. Medium: the status is landed as sent, whatever it is.
- Money: `value` is integer centavos (official, "Criar PIX": "o valor em centavos", minimum 50);
  the official "Consultar PIX" example writes it as a string of digits (`"1333"`), so both forms are
  accepted, nothing else. Sure. `fee` and `total` exist on that example (null there, unit not
  stated): landed in the payload, not read.
- No list endpoint, no date filter, no statement or settlement endpoint (reference §5.1: NOT
  FOUND; confirmed by the official pages we could read). So the sync re-reads known ids
  (`Provider.known_ids_from`); no pagination, end signal or stated total exists to check.
- Rate limit: about 1 query per minute per transaction, account blocked when exceeded.
  UNCONFIRMED (third-party guides only; the official docs list 429 "Muitas requisições em um curto
  espaço de tempo" without numbers). Respected anyway: one GET per id per sync, and a retry of the
  same id waits at least 60 s unless PushinPay's `Retry-After` says otherwise.
- Errors (official "Criar PIX" list): 400, 401 invalid token, 403 "Apenas administradores", 404,
  405, 406, 410, 418, 422 `{message, errors}`, 429, 500, 503. Sure for the list; bodies other than
  422's are not shown.
- Webhooks: sent to the charge's `webhook_url` on payment and on refund (official field
  description). Authenticated by a token set in the panel and sent in `x-pushinpay-token`
  (third-party consensus, six or more independent receivers; the official pages do not name the
  header; medium-high). No HMAC, no timestamp (none found): nothing to check for freshness, so
  replays are absorbed by deduplication on `id:status`. Body: `id, status, value, end_to_end_id,
  payer_name, payer_national_registration` (third-party, consistent), JSON or
  `application/x-www-form-urlencoded` (receivers parse both; medium). Event names such as
  `pix.paid` appear in one third-party document only and are not used.
- No official client library exists (github.com/Pushin-Pay holds only a profile README), so there is
  nothing to sign or call with; tests build notifications by hand.
"""
