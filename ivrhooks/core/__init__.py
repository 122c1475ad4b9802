"""The pure core: what a request is and how it becomes a decision, with no I/O of its own.

The vocabulary (:mod:`.types`), request parsing (:mod:`.request`), decisions (:mod:`.decisions`),
routes (:mod:`.routes`), the runner (:mod:`.runner`: a handler under its deadline, else the
fallback), per-call sessions (:mod:`.sessions`, over a store it is handed), masks
(:mod:`.masks`) and the sans-I/O auth verifiers (:mod:`.auth`). It imports the standard library,
itself and :mod:`ivrhooks.errors`, nothing else: no Starlette, no httpx, no server, no store.
Importing one module of it loads only what that module needs (this file imports nothing).
"""
