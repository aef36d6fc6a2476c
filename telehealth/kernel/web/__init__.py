"""Server-rendered pages: templates, NHS.UK frontend assets and signed-in staff sessions."""
