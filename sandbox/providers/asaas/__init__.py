"""The sandbox's Asaas: a Brazilian payment gateway (PIX, boleto, card) the checkout sells through.

Every store holds one Asaas account; buyers pay its charges (`GET /v3/payments`), Asaas keeps its
fee (`netValue` = `value` − fee), routes the affiliate's commission to the affiliate's wallet
(`split[]`), credits the balance per method (`creditDate`), and the tenant sweeps the balance to
the store's bank every business day (`GET /v3/transfers`, `GET /v3/financialTransactions`); the
transfers are the bank credits (payer Asaas, `payer.py`). Asaas **has webhooks**: a POST per payment
event with the account's authentication token in the `asaas-access-token` header (`webhooks.py`).

- `knobs`: `AsaasKnobs` (the checkout's rates plus `asaas_*`); `contract`: the fee schedule;
  `story`: the world's orders, payments, statements, transfers and credits; `generator`:
  `AsaasGenerator`; `records`, `facts`: what it generated (and the rules' generic facts);
- `wire`: Asaas's JSON; `api`: the fake API at `/asaas`; `options`: its server knobs;
  `webhooks`: the notifications; `platform`: `ASAAS`, the registry's entry.

Facts relied on (confidence as in ../shared/reference/providers-gateways.md §4):

- Auth, keys and 401 bodies: docs.asaas.com "Autenticação" (mirrored in the public repository
  matheuswillock/lead-flow-app, `AsaasDoc/autenticacao.md`): header `access_token`; keys
  `$aact_prod_…` / `$aact_hmlg_…` (Sandbox); `User-Agent` mandatory for root accounts created from
  2024-06-13; 401 `{"errors": [{"code", "description"}]}` with codes `access_token_not_found`,
  `invalid_access_token_format`, `invalid_environment`, `invalid_access_token`. Key body shape
  (`$aact_hmlg_000` + base64 of `<hex>::<uuid>::$aach_<uuid>`) from keys published by mistake in
  public repositories. The error for a missing User-Agent is not documented: the sandbox answers
  400 `invalid_user_agent` (our choice), and enforces it (`AsaasOptions.require_user_agent`)
  because every account of the world is a root account created after 2024-06-13; HTTP clients
  send one by default.
- `GET /v3/payments`: Asaas's OpenAPI export (readme `/branches/3/apis/asaas.json`, "Listar
  cobranças", mirrored in the same repository): filters, `limit` max 100, the list envelope, the
  payment object (incl. `split[]` with `totalValue`, `status`, `cancellationReason`; `refunds[]`
  with `dateCreated` `YYYY-MM-DD HH:MM:SS` and `refundedSplits`; `chargeback`), 403 for a GET with a
  body. What Asaas answers for `limit` > 100 is not confirmed (one third-party note says it caps
  silently): the sandbox answers 400 `invalid_limit` by default, or caps with
  `AsaasOptions(limit_over_max="cap")`.
- Statuses and events: reference §4.2 / §4.4; statement item types (`PAYMENT_RECEIVED`,
  `PAYMENT_FEE`, `PAYMENT_REVERSAL`, `PAYMENT_FEE_REVERSAL`, `CHARGEBACK`, `TRANSFER`,
  `INTERNAL_TRANSFER_DEBIT` / `_REVERSAL`) and statement / transfer fields and filters from the
  Go SDK GabrielHCataldo/go-asaas (`asaas/enum.go`, `account.go`, `transfer.go`), and the official
  SDK asaasdev/asaas-api-sdk-java (`FinancialTransactionGetResponseFinancialTransactionType`,
  `FinancialTransactionGetResponseDto`). The split's debit: that enum has no split type, only
  `INTERNAL_TRANSFER_DEBIT` / `_CREDIT` / `_REVERSAL` for money moved between Asaas accounts, and
  docs.asaas.com "Eventos para movimentações internas" says the recipient's side of a split is an
  internal-transfer credit (event `INTERNAL_TRANSFER_CREDIT`, type `SPLIT`); so the issuer's debit
  is `INTERNAL_TRANSFER_DEBIT` (its reversal `INTERNAL_TRANSFER_REVERSAL`), and both lines carry the
  DTO's `splitId` ("Split identifier (If any)") besides `paymentId` (MEDIUM: no example of such a
  line is published). **Unconfirmed**: the statement's item id format (`ft_…`, ours).
- `GET /v3/myAccount/commercialInfo/` (trailing slash): the account owner's commercial data with
  its `cpfCnpj`, `personType`, `status`, `companyName`…: official SDK `AccountInfoService.
  retrieveBusinessData`, `AccountInfoGetResponseDto` (HIGH). Each account is a store's, so it
  answers the store's CNPJ.
- Transfer object: docs.asaas.com "Mecanismo para validação de saque via webhooks" example
  (`bankAccount{bank{code, ispb, name}, accountName, ownerName, cpfCnpj, agency, account,
  accountDigit, pixAddressKey}`, `operationType`, `effectiveDate` null while PENDING).
- Rate limits: docs.asaas.com "Limites da API": 25,000 requests per account per 12 h (quota),
  50 concurrent GETs (not modelled), per-endpoint limits with `RateLimit-Limit|Remaining|Reset`
  headers and no published figure (the sandbox: 360 per minute per endpoint per account).
- Payer: ASAAS GESTÃO FINANCEIRA INSTITUIÇÃO DE PAGAMENTO S.A., CNPJ 19.540.550/0001-21
  (ajuda.asaas.com, "Termo aditivo - antecipação de recebíveis"); COMPE 461 from memory.
- Fees (`contract.py`) and credit terms (PIX same day, boleto D+1 business day, card 30 days per
  installment) are the sandbox's contract, not confirmed against Asaas's price page.

SDKs looked at: no official Python SDK exists (Asaas publishes none); the Go SDK
GabrielHCataldo/go-asaas was read for field names and enums. No SDK check runs in the tests.
"""

NAME = "asaas"  # its URL prefix (/asaas), its name in credentials, faults, logs and options
