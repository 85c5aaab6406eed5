#!/usr/bin/env bash
# First start of the compose PostgreSQL: the same roles, schemas and grants as
# deploy/local/src/edvent_localstack/postgres.py gives the local stack.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username postgres --dbname edvent <<SQL
REVOKE ALL ON DATABASE edvent FROM PUBLIC;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
CREATE SCHEMA IF NOT EXISTS extensions;
CREATE EXTENSION IF NOT EXISTS vector SCHEMA extensions;
GRANT USAGE ON SCHEMA extensions TO PUBLIC;
SQL

for pair in "identity:$IDENTITY_DB_PASSWORD" "content:$CONTENT_DB_PASSWORD" \
            "assessment:$ASSESSMENT_DB_PASSWORD" "ai_notes:$AI_NOTES_DB_PASSWORD"; do
  role="${pair%%:*}"
  password="${pair#*:}"
  psql -v ON_ERROR_STOP=1 --username postgres --dbname edvent \
       -v role="$role" -v password="$password" <<'SQL'
CREATE ROLE :"role" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'password';
GRANT CONNECT ON DATABASE edvent TO :"role";
CREATE SCHEMA :"role" AUTHORIZATION :"role";
ALTER ROLE :"role" SET search_path = :"role", extensions;
SQL
done
