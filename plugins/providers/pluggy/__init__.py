"""Pluggy (Open Finance aggregator): bank accounts, their transactions, and webhook notifications.

- `client.py`: the HTTP client (API key from `/auth`, cursor-paged `/v2/transactions`, Pluggy's
  error bodies);
- `shapes.py`: the documented shapes of its answers and of its webhook notifications;
- `provider.py`: `PluggyProvider`, which turns accounts and transactions into `RawRecord`s;
- `webhook.py`: `PluggyWebhook`, the stateless scheme that verifies and parses notifications.

Pluggy gives every object its own id, so there is no record parsing of ours to keep apart.
"""
