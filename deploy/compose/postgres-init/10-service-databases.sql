-- One role and one database per service (deploy/compose.yaml; ARCHITECTURE.md: every service owns its
-- database). Run once by the postgres image when its data directory is first made. Each role's password is
-- the one in that service's database URL secret (postgresql+asyncpg://<service>:<password>@postgres:5432/
-- <service>, made by make-secrets.sh), so it is written in one place. A service's migrations create its
-- schema (named as the service) inside its own database; the role owns the database, nobody else may
-- connect to it. tests/deploy/test_compose.py runs this file against a PostgreSQL server (names changed).
\set ON_ERROR_STOP on

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/gateway_database_url`
CREATE ROLE gateway LOGIN PASSWORD :'password';
CREATE DATABASE gateway OWNER gateway ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE gateway FROM PUBLIC;

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/registry_database_url`
CREATE ROLE registry LOGIN PASSWORD :'password';
CREATE DATABASE registry OWNER registry ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE registry FROM PUBLIC;

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/contracts_database_url`
CREATE ROLE contracts LOGIN PASSWORD :'password';
CREATE DATABASE contracts OWNER contracts ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE contracts FROM PUBLIC;

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/homecare_database_url`
CREATE ROLE homecare LOGIN PASSWORD :'password';
CREATE DATABASE homecare OWNER homecare ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE homecare FROM PUBLIC;

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/indicators_database_url`
CREATE ROLE indicators LOGIN PASSWORD :'password';
CREATE DATABASE indicators OWNER indicators ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE indicators FROM PUBLIC;

\set password `sed -E 's#^[^:]+://[^:@/]+:([^@]*)@.*$#\1#' /run/secrets/residents_database_url`
CREATE ROLE residents LOGIN PASSWORD :'password';
CREATE DATABASE residents OWNER residents ENCODING 'UTF8' TEMPLATE template0;
REVOKE ALL ON DATABASE residents FROM PUBLIC;
\unset password
