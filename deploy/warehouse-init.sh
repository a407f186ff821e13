#!/usr/bin/env bash
# First start of the Compose warehouse (docker-entrypoint-initdb.d): the same shape as the
# embedded one (docs/warehouse.md). The image's superuser bootstraps; the pipeline gets the
# non-superuser role `conciliador`, owner of the database `conciliador`; every login needs a
# SCRAM password (POSTGRES_INITDB_ARGS sets pg_hba to scram-sha-256, nothing trusts).
# The password arrives in the environment and is passed to psql as a variable, never in argv.
set -euo pipefail
: "${CONCILIADOR_DB_PASSWORD:?set CONCILIADOR_DB_PASSWORD for the pipeline role}"
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v conciliador_password="$CONCILIADOR_DB_PASSWORD" <<'SQL'
set password_encryption = 'scram-sha-256';
create role conciliador login nosuperuser nocreaterole nocreatedb password :'conciliador_password';
create database conciliador owner conciliador;
revoke all on database conciliador from public;
SQL
