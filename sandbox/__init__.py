"""The offline sandbox: a deterministic synthetic world and fake provider APIs serving it.

Layout (docs/sandbox-world.md tells the story, the knobs and the ground-truth rules):

- `sandbox.core`: the shared parts, naming no platform — calendar, ids, money, seeded streams,
  tokens, rate limits, HTTP helpers, fault injection and the request log (`control`), the
  world's shared knobs, tenants and stores (`parties`), the bank ledger whose credits name their
  payer (`bank`), and the interfaces a platform package implements (`platform`).
- `sandbox.providers.<name>`: one package per platform — its facts, their generation, its wire
  format, its fake API, its server options and its ground truth.
- `sandbox.registry`: the one list of platforms (`PLATFORMS`), with the store-founding platform
  and the bank.
- The compositions over the registry: `sandbox.world` (`WorldConfig`, `World`: `facts[name]`,
  `ground_truth()`, `status_counts()`, `reason_counts()`, `credentials(base_url)`, `digest()`),
  `sandbox.options` (`ServerOptions`), `sandbox.server` (`start_in_thread(world_or_config,
  port=0)`, `serve(...)`, `create_app(...)`). The CLI is `cli.sandbox` (`conciliador sandbox`).

Imports only go down that list: `core` imports nothing above it, a platform package only `core`
and itself, the registry the packages, the compositions the registry. The sandbox never imports
product code (`plugins/`, `ingestion/`, `dags/`) and product code never imports it: it is an
independent reading of the providers' documentation, so the product's clients are tested
against it, not with it.
"""
