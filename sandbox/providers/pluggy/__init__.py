"""The sandbox's Pluggy: the bank. It opens each store's account, and its fake API serves the shared
bank ledger (`sandbox.core.bank`) — every platform's payouts and the noise — in Pluggy's wire format.

- `connectors`: the (fictitious-id) Open Finance connectors of the stores' banks; `generator`:
  `PluggyGenerator` (tenants' Pluggy credentials, the stores' accounts and items); `records`,
  `facts`: what it generated.
- `wire`: Pluggy's JSON for items, accounts and transactions; `api`: the fake API; `options`: its
  server knobs; `platform`: `PLUGGY`, the entry the sandbox registry lists.

It knows no payer: a payout's name, CNPJ and descriptions come from the credit's `Payer`.
"""

NAME = "pluggy"  # its URL prefix (/pluggy), its name in credentials, faults, logs and options
