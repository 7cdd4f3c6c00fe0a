"""Every SQL query the dashboard runs, one module per area: ledger, relations, ingest."""
