"""Staff accounts, roles, passwords and API bearer tokens."""
