#!/usr/bin/env bash
# Start a throwaway PostgreSQL on 127.0.0.1:${POSTGRES_PORT:-5432} with its data under
# ${POSTGRES_DIR}, then apply the generated project's init SQL through its
# docker/postgres/initdb.sh (the very file docker compose runs). Prints the POSTGRES_URL to
# export on its last line. Idempotent: our own server, or the cluster Debian's package install
# started, is reused. The server refuses to run as root: it runs as the `postgres` system user.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
port=${POSTGRES_PORT:-5432}
dir=${POSTGRES_DIR:-/tmp/ci-postgres}
export POSTGRES_APP_DB=${POSTGRES_APP_DB:-my_pipeline}
export POSTGRES_APP_USER=${POSTGRES_APP_USER:-pipeline}
export POSTGRES_APP_PASSWORD=${POSTGRES_APP_PASSWORD:-pipeline-dev-password}
export POSTGRES_READONLY_USER=${POSTGRES_READONLY_USER:-dashboard}
export POSTGRES_READONLY_PASSWORD=${POSTGRES_READONLY_PASSWORD:-dashboard-dev-password}

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ]; then
  echo "PostgreSQL is not installed: apt-get install postgresql" >&2
  exit 1
fi
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}
answers() { "$bin/pg_isready" --quiet --host="$1" --port="$port"; }

socket_dir="$dir"
if ! answers "$dir"; then
  if answers /var/run/postgresql; then
    socket_dir=/var/run/postgresql   # apt's postinst started the system cluster on this port
  else
    mkdir -p "$dir"
    chown postgres: "$dir" 2>/dev/null || true
    if [ ! -f "$dir/data/PG_VERSION" ]; then
      as_postgres "$bin/initdb" --pgdata="$dir/data" --username=postgres --auth-local=peer \
        --auth-host=scram-sha-256 --encoding=UTF8 >"$dir/initdb.log" 2>&1
    fi
    if ! as_postgres "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" --wait \
        --timeout=60 --options="-c listen_addresses=127.0.0.1 -c port=$port \
        -c unix_socket_directories=$dir" start >/dev/null; then
      echo "PostgreSQL did not start; its log says:" >&2
      tail -n 30 "$dir/server.log" >&2 || true
      exit 1
    fi
  fi
fi
sh "$here/{{cookiecutter.project_slug}}/docker/postgres/initdb.sh" --print \
  | PGOPTIONS="-c client_min_messages=warning" as_postgres psql --quiet -v ON_ERROR_STOP=1 --host="$socket_dir" --port="$port" \
      --username=postgres --dbname=postgres >/dev/null
# The app user must get in over TCP with its password, as the tests will.
PGPASSWORD="$POSTGRES_APP_PASSWORD" psql --quiet --host=127.0.0.1 --port="$port" \
  --username="$POSTGRES_APP_USER" --dbname="$POSTGRES_APP_DB" --command='SELECT 1' >/dev/null
echo "postgresql+psycopg://$POSTGRES_APP_USER:$POSTGRES_APP_PASSWORD@127.0.0.1:$port/postgres"
