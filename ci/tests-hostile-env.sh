#!/usr/bin/env bash
# The test suites with a developer's environment at its most hostile: every settings
# variable set to a wrong value, in the shell and in a .env file in each package.
# Test settings are built only from what each test says, so no result may change.
set -euo pipefail
cd "$(dirname "$0")/.."
hostile=(
  USERS_ENVIRONMENT=production ITEMS_ENVIRONMENT=production GATEWAY_ENVIRONMENT=production
  ENVIRONMENT=production
  USERS_DATABASE_URL=postgresql+psycopg://nobody:wrong@bogus.invalid:1/none
  ITEMS_DATABASE_URL=postgresql+psycopg://nobody:wrong@bogus.invalid:1/none
  DATABASE_URL=postgresql+psycopg://nobody:wrong@bogus.invalid:1/none
  ITEMS_JWKS_URL=http://bogus.invalid:1/jwks GATEWAY_JWKS_URL=http://bogus.invalid:1/jwks
  JWKS_URL=http://bogus.invalid:1/jwks
  'GATEWAY_UPSTREAMS__ITEMS={"url":"http://bogus.invalid:1","routes":["/api/v1/bogus"]}'
  FIRST_ADMIN_EMAIL=root@example.com FIRST_ADMIN_PASSWORD=hostile-admin-password
  USERS_FIRST_ADMIN_EMAIL=root@example.com USERS_FIRST_ADMIN_PASSWORD=hostile-admin-password
)
dotenvs=()
for package in libs/flotilla services/*/; do
  package=${package%/}
  if [[ ! -e "$package/.env" ]]; then
    printf '%s\n' "${hostile[@]}" > "$package/.env"
    dotenvs+=("$package/.env")
  fi
done
cleanup() { rm -f "${dotenvs[@]}"; }
trap cleanup EXIT
env "${hostile[@]}" nox -s "$@"
