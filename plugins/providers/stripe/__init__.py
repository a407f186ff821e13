"""Stripe (card and payment gateway): one account's charges, refunds, disputes, payouts and balance
transactions, and its webhook events.

- `client.py`: the HTTP client (secret key as Bearer, pinned `Stripe-Version`, cursor-paged lists
  filtered by `created`, each payout's transactions checked against its amount, Stripe's error
  envelope);
- `shapes.py`: the documented shapes of its objects, lists, errors and events;
- `records.py`: where each kind of object lands and under which key (one rule for sync and
  webhooks), minor units to exact Decimals;
- `provider.py`: `StripeProvider`, which turns all of it into `RawRecord`s;
- `webhook.py`: `StripeWebhook`, the stateless scheme that verifies `Stripe-Signature` and parses
  events.

Facts relied on, with their sources and how sure they are ([OFFICIAL] = Stripe's own library or
docs; [3P] = third-party code or threads; [UNCONFIRMED] = inferred, check against the sandbox):

- Auth: `Authorization: Bearer <sk_…|rk_…>`; `Stripe-Version` pins the API version (we send
  `2026-10-28.endive`, the version stripe-python 16.1.0 sends); `Stripe-Account` would select a
  connected account and is not used. [OFFICIAL: stripe-python `_api_requestor.py` `request_headers`,
  `_api_version.py`]
- Lists: `object: "list"`, `data`, `has_more`, `url`; newest first; `limit` 1..100 (default 10);
  next page with `starting_after=<last id>`; the last page is the one with `has_more: false`; no
  totals. [OFFICIAL: stripe-python `_list_object.py`, `params/_balance_transaction_list_params.py`;
  docs.stripe.com/api/balance_transactions/list; reference `providers-gateways.md` §2.3]
- Date filters: `created[gte]` / `created[lt]` in Unix seconds on charges, refunds, disputes,
  payouts and balance transactions. [OFFICIAL: stripe-python list params; reference §2.3]
- `GET /v1/balance_transactions?payout=po_…` lists what an automatic payout paid out, and is
  refused for manual payouts ("Balance transaction history can only be filtered on automatic
  transfers, not manual", 400). [OFFICIAL for "automatic payouts only": the param's docstring;
  3P for the 400: proudcity/wp-proudcity#993, singer-io/tap-stripe#25]
- A payout's amount is what its transactions net to (the minimum-balance hold is itself such a
  transaction). [OFFICIAL: changelog 2024-12-18 "payout minimum balance", the payout reconciliation
  report; the arithmetic over the `payout=` listing is UNCONFIRMED for failed or canceled payouts,
  which are therefore not checked; whether the listing includes the payout's own `payout`-type
  transaction is UNCONFIRMED, and the check works either way]
- Money: integer minor units; currencies lower-case ISO; zero- and three-decimal currencies
  listed in `records.py`. [OFFICIAL: docs.stripe.com/currencies; the currency lists are 3P copies
  of that page] Balance transactions: `net = amount − fee`. [OFFICIAL: the field's description]
- Timestamps: Unix seconds (`created`, `available_on`, `arrival_date`). [OFFICIAL: SDK types]
- Errors: `{"error": {type, code, message, param, …}}`; 400/404 invalid request, 401 bad key,
  402 card error, 403 permission, 429 rate limit (and 400 `rate_limit`, older), `Request-Id`
  header on every answer, `Stripe-Should-Retry` advising retries (not read: every GET we make
  is safe to retry, and the transport retries 409/429/5xx). [OFFICIAL: `_api_requestor.py`
  `specific_v1_api_error`, `_http_client.py` `_should_retry`] `resource_missing` ("No such
  payout") and `account_invalid` codes. [3P: SDK error-code enums]
- Webhooks: `Stripe-Signature: t=…,v1=…`, HMAC-SHA256 hex of `"{t}.{body}"` with the `whsec_`
  secret as UTF-8, any `v1` may match, tolerance 300 s. [OFFICIAL: stripe-python `_webhook.py`;
  reference §2.1] Event envelope `object: "event"`, `id`, `type`, `created`, `data.object`
  (`data.previous_attributes` on `*.updated`), `livemode`, `api_version`, `account`. [OFFICIAL:
  stripe-python `_event.py`] Event types, all in the SDK's `Event.type` enum: `charge.*`,
  `charge.dispute.*`, `charge.refund.updated`, `refund.created|updated|failed`, `payout.*`,
  `payment_intent.*`; so `refund.created` exists (reference §9.1 had it UNCONFIRMED). [OFFICIAL]

Not confirmed: Stripe's `Retry-After` on 429 (honoured when sent); the exact 403 wording for a
key that cannot reach an account outside Connect.
"""
