"""The demo data behind seed_demo: orders and visits, charts in every state, notifications and follow-ups."""
