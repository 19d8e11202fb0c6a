#!/usr/bin/env bash
# One service's role and database on the compose stack's Postgres, created if missing
# (run by each service's `<name>-database` job, services/<name>/compose.yml): the role
# owns only its database. Connection from PGHOST/PGUSER/PGPASSWORD; the names from
# DATABASE_NAME and DATABASE_PASSWORD.
set -euo pipefail

# psql's :"ident" and :'literal' quote the values; nothing is pasted into SQL text.
psql -v ON_ERROR_STOP=1 --no-psqlrc --dbname postgres \
    --set name="${DATABASE_NAME:?}" --set password="${DATABASE_PASSWORD:?}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN PASSWORD %L', :'name', :'password')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'name') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', :'name', :'name')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'name') \gexec
REVOKE ALL ON DATABASE :"name" FROM PUBLIC;
SQL
echo "flotilla: role and database ${DATABASE_NAME} ready"
