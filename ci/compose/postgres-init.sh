#!/usr/bin/env bash
# Postgres init hook for docker-compose.yml (mounted into /docker-entrypoint-initdb.d):
# runs once, when the data volume is empty, and gives each service its own role and database
# (users, items), each role owning only its database. Passwords come from USERS_DB_PASSWORD
# and ITEMS_DB_PASSWORD in the postgres container's environment.
set -eo pipefail

create_role_and_database() { # name password
    # psql's :"ident" and :'literal' quote the values; nothing is pasted into SQL text.
    psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname postgres \
        --set name="$1" --set password="$2" <<'SQL'
CREATE ROLE :"name" LOGIN PASSWORD :'password';
CREATE DATABASE :"name" OWNER :"name";
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
    echo "flotilla: created role and database $1"
}

create_role_and_database users "${USERS_DB_PASSWORD:?USERS_DB_PASSWORD is not set}"
create_role_and_database items "${ITEMS_DB_PASSWORD:?ITEMS_DB_PASSWORD is not set}"
