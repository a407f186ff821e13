"""The webhook sink: an ASGI app that verifies provider notifications, lands them durably, answers 202.

`app.py` builds it, `routes.py` answers each request, `group_commit.py` stores many requests'
deliveries under one commit, `secrets.py` caches each integration's webhook secret, `metrics.py`
counts what happens, `server.py` serves it with uvicorn, `worker.py` turns landed deliveries into
raw rows. docs/webhook-sink.md says why it is built this way.
"""
