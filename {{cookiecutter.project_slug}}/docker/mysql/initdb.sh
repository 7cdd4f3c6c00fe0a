#!/bin/sh
# Fill the ${NAME} placeholders of init.sql from the environment and apply it.
#
#   initdb.sh            apply it with `mysql` as root (what the MySQL image runs on first start)
#   initdb.sh --print    print the filled SQL, e.g. to pipe into another client (CI does that)
#
# Every placeholder must be set: an unset one stops here rather than creating a user named "".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sql_file=${INIT_SQL:-$here/init.sql}

# sed replacement text: escape the backslash, the ampersand and our delimiter.
escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g'; }

script=""
for name in MYSQL_DATABASE MYSQL_USER MYSQL_PASSWORD MYSQL_READONLY_USER MYSQL_READONLY_PASSWORD; do
    value=$(printenv "$name" || true)
    if [ -z "$value" ]; then
        echo "initdb.sh: $name is not set; define it in .env (see .env.example)" >&2
        exit 1
    fi
    script="${script}s|\${$name}|$(escape "$value")|g;"
done

if [ "${1:-}" = "--print" ]; then
    sed -e "$script" "$sql_file"
else
    sed -e "$script" "$sql_file" | MYSQL_PWD="${MYSQL_ROOT_PASSWORD}" mysql --protocol=socket -uroot
fi
