"""The project database: engine factory, session scope, ORM base and the run ledger models."""
