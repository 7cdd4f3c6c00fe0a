-- Runs once, when the PostgreSQL data volume is first created (docker/postgres/initdb.sh fills
-- in the ${...} values from .env). CI applies the very same file to Debian's PostgreSQL.
-- psql runs it as the server's superuser; every statement may run again without harm.

-- The pipeline's own user: it owns the project database, and may create the throwaway
-- test_* databases the test suite uses on this server.
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', '${POSTGRES_APP_USER}', '${POSTGRES_APP_PASSWORD}')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_APP_USER}') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '${POSTGRES_APP_DB}', '${POSTGRES_APP_USER}')
WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '${POSTGRES_APP_DB}') \gexec

-- The dashboard reads, never writes: SELECT on every table (pg_read_all_data), and every
-- session it opens is read-only.
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', '${POSTGRES_READONLY_USER}', '${POSTGRES_READONLY_PASSWORD}')
WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${POSTGRES_READONLY_USER}') \gexec
SELECT format('GRANT pg_read_all_data TO %I', '${POSTGRES_READONLY_USER}') \gexec
SELECT format('ALTER ROLE %I SET default_transaction_read_only = on', '${POSTGRES_READONLY_USER}') \gexec
