#!/usr/bin/env bash
# DAST: Schemathesis fuzzes the stack at $GATEWAY_URL through its OpenAPI
# document, signed in as a fresh user, and fails on a 5xx, on an endpoint that
# ignores authentication, on invalid data accepted, or on a response that
# contradicts the schema. JUnit report: build/reports/junit-dast.xml.
set -euo pipefail

: "${GATEWAY_URL:?}" "${SCHEMATHESIS_VERSION:?}"
email="dast-$(date +%s)-$RANDOM@example.com"
password="dast-password-$RANDOM$RANDOM"

curl --silent --show-error --fail --output /dev/null \
    --json "{\"email\": \"$email\", \"password\": \"$password\"}" \
    "$GATEWAY_URL/api/v1/auth/register"
token=$(curl --silent --show-error --fail \
    --data-urlencode "username=$email" --data-urlencode "password=$password" \
    "$GATEWAY_URL/api/v1/auth/token" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

mkdir -p build/reports
uvx --from "schemathesis==$SCHEMATHESIS_VERSION" schemathesis run "$GATEWAY_URL/openapi.json" \
    --header "Authorization: Bearer $token" \
    --checks not_a_server_error,ignored_auth,negative_data_rejection,response_schema_conformance,content_type_conformance \
    --max-examples "${DAST_MAX_EXAMPLES:-25}" \
    --workers 2 \
    --no-color \
    --report junit --report-junit-path build/reports/junit-dast.xml
