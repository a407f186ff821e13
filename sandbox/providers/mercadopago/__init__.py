"""The sandbox's Mercado Pago: one account per store taking the checkout's payments (PIX and cards in 1–12
installments), MP's fees and the marketplace's `application_fee`, releases and the daily withdrawals
to the store's bank, the fake API that serves them and the Webhooks notifications about them.

- `knobs`: its `WorldConfig` fields (`mercadopago_*`, on top of the checkout's shared rates);
  `fees`: the tenants' fee contracts; `story`: one account's payments, fates, releases and
  withdrawals; `generator`: `MercadoPagoGenerator`; `records`, `facts`: what it generated, and the
  rules' generic facts (`MercadoPagoFacts`); `payer`: Mercado Pago as the payer of bank credits.
- `wire`: MP's wire format; `api`: the fake API; `options`: its server knobs; `webhooks`: signed
  notifications (`deliveries`); `platform`: `MERCADOPAGO`, the entry the sandbox registry lists.

Facts relied on, their sources and how sure they are (the reference is
`../shared/reference/providers-gateways.md` §3, §8–9):

| fact | source | confidence |
|---|---|---|
| `GET /v1/payments/search` with `sort` (`date_approved`, `date_created`, `date_last_updated`, `id`, `money_release_date`), `criteria` (`asc`/`desc`), `range` (`date_created` default, `date_last_updated`, `date_approved`, `money_release_date`), `begin_date` / `end_date` (ISO-8601 or `NOW-XDAYS`, `NOW-XMONTHS`; defaults `NOW-3MONTHS` / `NOW`), `external_reference`; answer `{"paging": {"total", "limit", "offset"}, "results"}` | MP's payments OpenAPI, github mercadopago/devsite-docs `reference/api-json/payments.json` ("/v1/payments/search") | official |
| 400 cause codes 1 `Params Error.`, 1000 `Number of rows exceeded the limits.`, 1001 `Date format must be yyyy-MM-dd'T'HH:mm:ss.SSSZ.`, 1003 `Invalid sort value.`, 1004 `Invalid criteria value.`; 404 cause 2000 `Payment not found` | MP's API reference "Search payments" / "Get payment" error tables (mercadopago.com.*/developers/…/reference/payments/_payments_search/get) | official; which code answers a limit or offset over the maximum is our choice (1000) |
| `limit` at most 50 (default 30), `offset` at most 10000; filters `status`, `status_detail`, `payment_type_id`, `payment_method_id`, `operation_type`, `installments`; `NOW-<n>MINUTES|HOURS|DAYS|WEEKS` | MP's guide "Received payments management" (devsite-docs `guides/additional-content/sales-processing/retrieving-payments.en.md`) | official guide; the official SDK's auto-pager asks for 100 (refused here, as the guide says) |
| payment fields and values: ids, `date_*` with `-04:00` and milliseconds, `money_release_date`, `money_release_status` (`pending`/`released`), `status` and `status_detail` (`accredited`, `pending_waiting_transfer`, `pending_review_manual`, `expired`, `cc_rejected_*`), `operation_type` `regular_payment`, `payment_type_id` `credit_card` / `bank_transfer`, `collector_id`, `live_mode` | the same OpenAPI and guide's example payment | official; `settled` (charged back), `refunded` status details are 3P |
| `fee_details[]{type, amount, fee_payer}` with `mercadopago_fee` and the marketplace's `application_fee` (MP deducts its fee first, then the commission); `transaction_details.net_received_amount` = amount − fees | reference §3.3–3.4 (MP's split-payments pages); the OpenAPI's `application_fee` request field | official for `application_fee`; the `fee_details.type` list 3P |
| `refunds[]{id, payment_id, amount, date_created, status, …}`; `transaction_amount_refunded` | the OpenAPI's refund objects | official |
| error envelope `{"message", "error", "status", "cause": []}`; a bad token 401 `invalid access token`; no token 403 `PA_UNAUTHORIZED_RESULT_FROM_POLICIES` from `PolicyAgent` | SDK `mercadopago` 3.6.0 `errors/exceptions.py` (reads `message`, `error`, `cause`); the OpenAPI's 403 table ("…if the authorization header is removed… or the Access Token is not sent") | envelope official, 401 message 3P |
| production access tokens `APP_USR-<application id, 15–16 digits>-<MMDDHH>-<32 hex>-<user id>`; the user id is the account's `collector_id` | many published examples of MP tokens; the SDK's `Authorization: Bearer` (`config/request_options.py`) | 3P (shape), official (bearer) |
| `GET /users/me` → `id`, `identification{type, number}`, `site_id` | SDK `resources/user.py` (path); Mercado Libre users API consumers (fields) | path official, fields 3P |
| Webhooks: body `{id, live_mode, type, date_created, user_id, api_version, action, data{id}}`, query `?data.id=&type=payment`, `x-signature: ts=…,v1=…` = HMAC-SHA256 hex of `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` keyed with the signature secret, `x-request-id` | MP's "Webhooks" page (reference §3.1–3.2); SDK `webhook/validator.py` | official |
| `ts` in seconds | the docs' example (`ts=1704908010`, ten digits) and the SDK validator (`int(ts) * 1000` against a millisecond clock); the docs' prose says milliseconds | contradictory in MP's docs; we follow the example and the SDK |
| the signature secret is 64 hex characters | none found | UNCONFIRMED (shape only) |
| Mercado Pago Instituição de Pagamento Ltda., CNPJ 10.573.521/0001-91; bank code 323 | MP's terms "Condições gerais da Antecipação de dinheiro" (mercadopago.com.br/ajuda/…_2584) | CNPJ official; bank code 3P |
| release by term: card money in 30 days by default (14 days or at once for higher rates), PIX at once; rates 3.99 / 4.49 / 4.98 % (card by term), 0.99 % (PIX) | MP's help pages on "taxas e prazos" (the terms are chosen by the seller); the figures are the sandbox's contract, modelled on MP's published online rates | release model official; the exact rates are the sandbox's contract |
| MP publishes no request quota; it answers 429 (the SDK retries 429 and 5xx) | SDK `config/defaults.py`; api-evangelist's rate-limit summary ("no single hard, public rate-limit number") | the 600/min figure is the sandbox's choice |
| MP pays the released money out to the account holder's bank by PIX; one withdrawal per business day of releases, refunds after the release deducted from the day they are dated | docs/payment-reconciliation-rules.md ("Payouts", Mercado Pago) | the rules' model (MP's automatic withdrawal schedule is not documented) |

Choices where MP says nothing: `NOW` is the world's `as_of` at 00:00 São Paulo (the world is a
snapshot taken then); date bounds are inclusive instants; ties are ordered by id and payments
without the sorted date come last; refund dates are written in `-03:00`; an id of another account
answers 404; chargebacks happen only before the release (never released money is taken back); the
release of a payment's money moves its `date_last_updated` to `money_release_date` (MP says neither
that it does nor that it does not: its guide's example payment was last updated a week after its
release date, which fits both; a client must not rely on it, and can search `range=money_release_date`).
"""

NAME = "mercadopago"  # its URL prefix (/mercadopago), its name in credentials, faults, logs and options
