#!/bin/sh
# Fill the ${NAME} placeholders of init.sql from the environment and apply it.
#
#   initdb.sh            apply it with `psql` as the superuser (what the postgres image runs on
#                        first start, from /docker-entrypoint-initdb.d)
#   initdb.sh --print    print the filled SQL, e.g. to pipe into another psql (CI does that)
#
# Every placeholder must be set: an unset one stops here rather than creating a user named "".
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sql_file=${INIT_SQL:-$here/init.sql}

# sed replacement text: escape the backslash, the ampersand and our delimiter; and a single
# quote doubled, as SQL string literals want it.
escape() { printf '%s' "$1" | sed -e 's/[\\&|]/\\&/g' -e "s/'/''/g"; }

script=""
# The pipeline's names carry APP_: in the postgres image POSTGRES_USER is the superuser.
for name in POSTGRES_APP_DB POSTGRES_APP_USER POSTGRES_APP_PASSWORD POSTGRES_READONLY_USER \
    POSTGRES_READONLY_PASSWORD; do
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
    # The image's entrypoint runs this with its superuser's POSTGRES_USER in the environment.
    sed -e "$script" "$sql_file" \
        | psql -v ON_ERROR_STOP=1 --username "${POSTGRES_USER:-postgres}" --dbname postgres
fi
