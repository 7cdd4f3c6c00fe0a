#!/usr/bin/env bash
# Start a throwaway MariaDB on 127.0.0.1:${MYSQL_PORT:-3306} with its data under ${MARIADB_DIR},
# then apply the generated project's init SQL through its docker/mysql/initdb.sh (the very
# file docker compose runs). Prints the MYSQL_URL to export on its last line.
# Idempotent: our own server, or a system MariaDB the package install started, is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
port=${MYSQL_PORT:-3306}
dir=${MARIADB_DIR:-/tmp/ci-mariadb}
export MYSQL_DATABASE=${MYSQL_DATABASE:-my_pipeline}
export MYSQL_USER=${MYSQL_USER:-pipeline}
export MYSQL_PASSWORD=${MYSQL_PASSWORD:-pipeline-dev-password}
export MYSQL_READONLY_USER=${MYSQL_READONLY_USER:-dashboard}
export MYSQL_READONLY_PASSWORD=${MYSQL_READONLY_PASSWORD:-dashboard-dev-password}

answers() { mariadb-admin --protocol=socket --socket="$1" -uroot ping >/dev/null 2>&1; }

socket="$dir/mysqld.sock"
if ! answers "$socket"; then
  if answers /run/mysqld/mysqld.sock; then
    socket=/run/mysqld/mysqld.sock   # apt's postinst started the system server on this port
  else
    mkdir -p "$dir"
    if [ ! -d "$dir/data/mysql" ]; then
      mariadb-install-db --user=root --datadir="$dir/data" --auth-root-authentication-method=socket \
        --skip-test-db >"$dir/install.log" 2>&1
    fi
    (mariadbd --user=root --datadir="$dir/data" --socket="$socket" \
       --bind-address=127.0.0.1 --port="$port" --pid-file="$dir/mysqld.pid" \
       --log-error="$dir/error.log" --skip-name-resolve >/dev/null 2>&1 &)
    for _ in $(seq 1 120); do
      answers "$socket" && break
      sleep 0.5
    done
    if ! answers "$socket"; then
      echo "MariaDB did not start; its log says:" >&2
      tail -n 30 "$dir/error.log" >&2 || true
      exit 1
    fi
  fi
fi
sh "$here/{{cookiecutter.project_slug}}/docker/mysql/initdb.sh" --print \
  | mariadb --protocol=socket --socket="$socket" -uroot
# The app user must get in over TCP, as the tests will.
mariadb --protocol=tcp -h127.0.0.1 -P"$port" -u"$MYSQL_USER" -p"$MYSQL_PASSWORD" -e 'SELECT 1' >/dev/null
echo "mysql+pymysql://$MYSQL_USER:$MYSQL_PASSWORD@127.0.0.1:$port/"
