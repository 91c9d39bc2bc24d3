#!/bin/sh
# Make every secret file deploy/compose.yaml reads, with fresh random values (openssl):
#   sh deploy/compose/make-secrets.sh deploy/compose/secrets
# The directory must hold none of them yet: secrets that belong together (a service's client secret and
# the gateway's list of them, a database URL and the role made from it) are made together, and an existing
# install is never overwritten (rotating keys: docs/OPERATIONS.md). secrets/README.md lists the formats.
# The values pass the production checks (libs/common/production.py); tests/deploy/test_compose.py runs this.
set -eu
dir=${1:?usage: make-secrets.sh DIRECTORY}
services="gateway registry contracts homecare indicators residents"
callers="contracts homecare indicators residents"  # services that ask the gateway for service tokens

mkdir -p "$dir"
chmod 700 "$dir"
for name in postgres_password gateway_signing_key gateway_service_clients minio_root_user \
  minio_root_password attachments_access_key_id attachments_secret_access_key; do
  if [ -e "$dir/$name" ]; then
    echo "make-secrets: $dir/$name exists; refusing to overwrite an install's secrets" >&2
    exit 1
  fi
done
for service in $services; do
  for name in database_url personal_data_keys personal_data_lookup_key service_client_secret; do
    if [ -e "$dir/${service}_$name" ]; then
      echo "make-secrets: $dir/${service}_$name exists; refusing to overwrite an install's secrets" >&2
      exit 1
    fi
  done
done

# Compose mounts a file secret as it is on the host (owner and mode): the containers run as other users
# (uid 10001, postgres, minio), so the files are readable (0644) and the directory is not (0700).
umask 022
hex() { openssl rand -hex 32; }                         # 64 characters (secrets: 32 at least)
key() { openssl rand -base64 32 | tr '+/' '-_'; }       # 32 bytes, urlsafe base64 (AES-256-GCM, HMAC)

hex >"$dir/postgres_password"
for service in $services; do
  printf 'postgresql+asyncpg://%s:%s@postgres:5432/%s\n' "$service" "$(hex)" "$service" >"$dir/${service}_database_url"
  printf '{"k1": "%s"}\n' "$(key)" >"$dir/${service}_personal_data_keys"
  key >"$dir/${service}_personal_data_lookup_key"
done
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$dir/gateway_signing_key" 2>/dev/null
clients=""
for service in $callers; do
  hex >"$dir/${service}_service_client_secret"
  clients="$clients${clients:+, }\"$service\": \"$(cat "$dir/${service}_service_client_secret")\""
done
printf '{%s}\n' "$clients" >"$dir/gateway_service_clients"
printf 'yiyang-admin\n' >"$dir/minio_root_user"
hex >"$dir/minio_root_password"
printf 'homecare-attachments\n' >"$dir/attachments_access_key_id"
hex >"$dir/attachments_secret_access_key"
echo "secrets written to $dir (keep them out of version control; back them up with the databases)"
