"""iFood Merchant API, Financial module v3.0: sales, financial events, settlements, anticipations
and the on-demand reconciliation file, per merchant.

- `client.py`: the HTTP client (OAuth2 client credentials, windows the API accepts, pagination,
  iFood's error bodies and its documented "nothing here" 404s);
- `shapes.py`: the documented shapes every answer is decoded into;
- `records.py`: the reconciliation CSV parsed and checked, and stable ids for what iFood gives none;
- `provider.py`: `IfoodProvider`, which turns all of it into `RawRecord`s for its raw tables.

No webhooks: iFood's Financial module sends none, so its money reaches the warehouse only by
scheduled extraction (`IfoodProvider.webhook` is None). iFood's webhooks belong to the Events
module, which is about orders, and its `X-IFood-Signature` (HMAC-SHA256 of the body keyed with
the client secret) signs those order events, not financial ones
(`../shared/reference/providers-banking-ifood.md` §2.9).
"""
