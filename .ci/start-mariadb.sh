#!/usr/bin/env bash
# Start a throwaway MariaDB on 127.0.0.1:${MYSQL_PORT:-3306} with its data under ${MARIADB_DIR},
# then apply the generated project's init SQL (the same file docker-compose runs).
# Prints the MYSQL_URL to export. Idempotent: a server already answering is reused.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
port=${MYSQL_PORT:-3306}
dir=${MARIADB_DIR:-/tmp/ci-mariadb}
export MYSQL_DATABASE=${MYSQL_DATABASE:-my_pipeline}
export MYSQL_USER=${MYSQL_USER:-pipeline}
export MYSQL_PASSWORD=${MYSQL_PASSWORD:-pipeline-dev-password}
export MYSQL_READONLY_USER=${MYSQL_READONLY_USER:-dashboard}
export MYSQL_READONLY_PASSWORD=${MYSQL_READONLY_PASSWORD:-dashboard-dev-password}

if ! mariadb-admin --protocol=socket --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1; then
  mkdir -p "$dir"
  if [ ! -d "$dir/data/mysql" ]; then
    mariadb-install-db --user=root --datadir="$dir/data" --auth-root-authentication-method=socket \
      --skip-test-db >"$dir/install.log" 2>&1
  fi
  (mariadbd --user=root --datadir="$dir/data" --socket="$dir/mysqld.sock" \
     --bind-address=127.0.0.1 --port="$port" --pid-file="$dir/mysqld.pid" \
     --log-error="$dir/error.log" --skip-name-resolve >/dev/null 2>&1 &)
  for _ in $(seq 1 60); do
    mariadb-admin --protocol=socket --socket="$dir/mysqld.sock" -uroot ping >/dev/null 2>&1 && break
    sleep 0.5
  done
fi
sed -e "s/\${MYSQL_DATABASE}/$MYSQL_DATABASE/g" -e "s/\${MYSQL_USER}/$MYSQL_USER/g" \
    -e "s/\${MYSQL_PASSWORD}/$MYSQL_PASSWORD/g" -e "s/\${MYSQL_READONLY_USER}/$MYSQL_READONLY_USER/g" \
    -e "s/\${MYSQL_READONLY_PASSWORD}/$MYSQL_READONLY_PASSWORD/g" \
    "$here/{{cookiecutter.project_slug}}/docker/mysql/init.sql" \
  | mariadb --protocol=socket --socket="$dir/mysqld.sock" -uroot
echo "mysql+pymysql://$MYSQL_USER:$MYSQL_PASSWORD@127.0.0.1:$port/"
