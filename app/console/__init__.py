"""The officials' console: sign-in, policies, decisions, reach and draft impact, and the audit log."""
