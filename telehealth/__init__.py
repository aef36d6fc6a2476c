"""Bay Telehealth: the application around the two domains (`scheduling`, `notifications`).

- `kernel/`: what every part builds on (settings, database, errors, auth, API plumbing, OpenAPI,
  idempotency, audit, live updates, identifiers, migrations, web helpers). Imports no domain
  and no feature.
- Features, one package each, built on the domains: `video/` (rooms, joining, clinic and
  reception screens), `travel/` (travel avoided: estimators, records, reports), `messaging/`
  (what messages and invites say, the invite's link, the outbox worker and its pages),
  `calendars/` (clinicians' feeds),
  `users/` (staff logins), `demo/` (the demo partnership and its seed).
- Composition roots, which may import anything: `app.py` (the ASGI app, at the top level),
  `cli.py` (the `telehealth` command) and `schema.py` (every table, for migrations and tests).

docs/ARCHITECTURE.md draws the layers; `make lint` enforces them.
"""
