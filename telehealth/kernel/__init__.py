"""The kernel: settings, database, errors, auth, API plumbing and web helpers every feature
builds on. It imports no domain (scheduling, notifications) and no feature: docs/ARCHITECTURE.md.
"""
