"""Staff users: the admin API that creates, edits and deactivates logins."""
