"""The offline sandbox: a deterministic synthetic world and fake Pluggy / iFood APIs serving it.

Public API (see docs/sandbox-world.md for the story, the knobs and the ground-truth rules):

- `sandbox.world`: `WorldConfig` (the knobs), `World` (the generated facts, `ground_truth()`,
  `status_counts()`, `reason_counts()`, `credentials(base_url)`).
- `sandbox.truth`: the reconciliation rules of docs/reconciliation-rules.md over the world's facts.
- `sandbox.calendar`: business days (B3 financial holidays), `add_business_days`, `roll_forward`.
- `sandbox.server`: `start_in_thread(world_or_config, port=0)`, `serve(...)`, `create_app(...)`.
- `sandbox.options`: `ServerOptions` (rate limits, token lifetimes).
- `sandbox.cli`: the `conciliador sandbox` Typer app (`serve`, `credentials`, `truth`).

It never imports product code (`plugins/`, `ingestion/`, `dags/`): it is an independent reading
of the providers' documentation, so the product's clients are tested against it, not with it.
"""
