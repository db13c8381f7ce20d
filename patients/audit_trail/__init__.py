"""The privacy officer's search of the audit trail (DESIGN §4 security): by patient, by user, by date range."""
