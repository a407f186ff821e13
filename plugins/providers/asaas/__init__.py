"""Asaas: a Brazilian payments institution and digital account (boleto, Pix, credit card, split).

A merchant's customers pay Asaas charges (`payments`); Asaas credits the net (after its fee) to
the merchant's Asaas account on the payment's credit date, and the merchant transfers the
balance out to a bank account (`transfers`). The account statement (`financialTransactions`)
is the ledger of every movement. It has webhooks.

- `client.py`: the HTTP client (API key header, offset pages ending on `hasMore`, the statement,
  transfers, by-id reads, Asaas's error answers);
- `shapes.py`: the documented shapes of its answers and notifications (money as exact Decimals);
- `provider.py`: `AsaasProvider`, which turns the interval's dates into `RawRecord`s;
- `webhook.py`: `AsaasWebhook`, the stateless scheme that verifies and parses notifications.

Asaas gives every object its own id, so there is no record parsing of ours (no `records.py`).

Facts relied on, with their sources and how sure they are:

- Auth: header `access_token: <api key>` (keys `$aact_prod_…` / `$aact_hmlg_…` for the sandbox),
  `User-Agent` mandatory for root accounts created from 2024-06-13; a missing or invalid key
  answers 401. OFFICIAL: docs.asaas.com "Autenticação" (docs/autenticação-1); the key prefixes are
  3P (reference §4.3). Base URLs `https://api.asaas.com` and `https://api-sandbox.asaas.com`,
  paths under `/v3`: OFFICIAL (same page; docs "list-transfers" calls the sandbox URL), 3P-many.
- Status codes: 400 invalid parameter (body names it), 401 key, 403 "API abuse or prohibited
  parameters" / a body sent on a GET, 404 endpoint or object does not exist, 429 too many
  requests, 500; error body `{"errors": [{"code", "description"}]}`. OFFICIAL: docs.asaas.com
  "HTTP response codes"; the SDK's `ErrorResponseDto`. What a 404 body looks like on a missing
  object is NOT documented (we require the errors envelope: UNCONFIRMED).
- Rate limits: 429 for over 50 concurrent GETs, over 25,000 requests per 12 h, or a per-endpoint
  limit, with headers `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` (seconds until
  reset). OFFICIAL: docs.asaas.com "API Limits", "Requests blocked due to missing rate limit
  control". Whether a 429 also carries `Retry-After` is not documented; the transport honours
  either.
- Listings: `offset`, `limit` (max 100), envelope `{object: "list", hasMore, totalCount, limit,
  offset, data}`. OFFICIAL-SDK: asaasdev/asaas-api-sdk-java `PaymentListResponseDto`,
  `FinancialTransactionListResponseDto`, `TransferListResponseDto` (HIGH); max 100: reference §4.4
  (3P go-asaas, consistent with docs; MEDIUM).
- `GET /v3/payments` filters `dateCreated[ge]`, `dateCreated[le]` (and paymentDate, dueDate,
  estimatedCreditDate ranges) as `YYYY-MM-DD`. OFFICIAL-SDK: `PaymentService.listPayments` query
  names (HIGH). The payment object (`id`, `dateCreated` as a bare date, `value`, `netValue`,
  `status`, `billingType`, `dueDate`, `installment`, `installmentNumber`, `creditDate`,
  `estimatedCreditDate`, `externalReference`, `refunds[]`, `split[]` …): SDK
  `PaymentGetResponseDto` (HIGH) and webhook examples (docs). Split items `walletId`,
  `fixedValue`, `percentualValue`, `totalValue`, `status`, …: SDK `PaymentSplitGetResponseDto`;
  newer doc pages name the array `splits`, so both keys are read (reference §4.5, CONTRADICTORY).
- `GET /v3/financialTransactions?startDate&finishDate&offset&limit&order`, items `{object, id,
  value (signed), balance, type, date, description, paymentId, splitId, transferId,
  anticipationId, billId, invoiceId, …}`. OFFICIAL-SDK: `FinancialTransactionService`
  (`retrieveExtract`), `FinancialTransactionGetResponseDto` (HIGH). That both dates are inclusive
  is our reading of "the period informed" (MEDIUM).
- `GET /v3/transfers` filters `dateCreated[ge]`, `dateCreated[le]`, `transferDate[ge]`,
  `transferDate[le]`, `type`, "ordered by creation date". OFFICIAL: docs.asaas.com
  "list-transfers" (HIGH). The SDK sends `dateCreatedLe[ge]`/`dateCreatedLe[le]`, which reads as
  a generator slip; we follow the docs page. Transfer object (`id`, `dateCreated`, `status`
  PENDING|BANK_PROCESSING|DONE|CANCELLED|FAILED, `value`, `netValue`, `transferFee`,
  `effectiveDate`, `operationType` PIX|TED|INTERNAL, `bankAccount{cpfCnpj, …}`): SDK
  `TransferGetResponseDto` (HIGH); the docs' webhook example masks `bankAccount.cpfCnpj`.
- `GET /v3/myAccount/commercialInfo/` gives the account's own `cpfCnpj`: SDK
  `AccountInfoService.retrieveBusinessData`, `AccountInfoGetResponseDto` (HIGH).
- Money: JSON numbers in reais (`129.9`), decoded into Decimal exactly. Reference §0 and every
  example (HIGH). Dates `YYYY-MM-DD`; the webhook envelope's `dateCreated` `YYYY-MM-DD HH:MM:SS`
  without a zone (docs examples), read as America/Sao_Paulo (Asaas is a Brazilian platform whose
  dates are business dates; MEDIUM).
- Webhooks: the configuration's auth token echoed verbatim in header `asaas-access-token`; no
  HMAC, no timestamp; only HTTP 200 counts as delivered, retries, queue paused after 15
  consecutive failures, at-least-once so dedupe on the event `id`. OFFICIAL: docs "Criar novo
  Webhook pela aplicação web", webhooks FAQ (reference §4.1). Envelope `{id, event, dateCreated,
  payment|transfer}`: OFFICIAL docs "webhook-para-cobrancas", "webhook-para-transferencias". The
  event list: SDK `WebhookConfigGetResponseWebhookEvent` enum (HIGH); transfer events
  TRANSFER_CREATED|PENDING|IN_BANK_PROCESSING|BLOCKED|DONE|FAILED|CANCELLED (docs, HIGH).
  Payloads of PAYMENT_SPLIT_* events: not documented (landed on the envelope alone).
- No official Python library exists (the official SDK is Java, generated from Asaas's OpenAPI),
  and Asaas's webhooks are not signed, so no library can sign a delivery for the tests.
"""
