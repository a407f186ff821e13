"""The sandbox's iFood: merchants, orders, financial events, payouts and their ground truth, and the
fake Merchant API (authentication + Financial v3.0) serving them.

- `knobs`: iFood's `WorldConfig` fields; `merchants`, `orders`, `payouts`: generation;
  `generator`: `IfoodGenerator`, the platform's part in building a world; `records`, `facts`:
  what it generated; `payer`: iFood as the payer of bank credits; `rules`, `truth`: the ground truth.
- `wire`, `financial`: iFood's wire formats; `api`: the fake API; `options`: its server knobs.
- `platform`: `IFOOD`, the entry the sandbox registry lists.
"""

NAME = "ifood"  # its URL prefix (/ifood), its name in credentials, faults, logs and options
