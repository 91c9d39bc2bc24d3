#!/bin/sh
# The start-up command of every service image (Dockerfile: ENTRYPOINT ["sh", "/app/deploy/docker/entrypoint.sh"]).
# tests/deploy/test_startup_commands.py runs this same script outside a container.
#
#   serve    (the default) uvicorn services.$SERVICE.app:app on $HOST:$PORT with $WEB_CONCURRENCY workers
#            (more than one: PROMETHEUS_MULTIPROC_DIR, default $TMPDIR/prometheus-multiproc, emptied first)
#   migrate  the service's migrations: alembic -n $SERVICE upgrade head (the one-shot job run before the
#            services start; the services themselves run with <PREFIX>_MIGRATE_ON_START=false)
#   other    run as given (e.g. `python -m ...`), after the secrets below are read
#
# Secrets from files: for a variable <NAME>_FILE of a service's prefix (REGISTRY_PERSONAL_DATA_KEYS_FILE=
# /run/secrets/registry_personal_data_keys), <NAME> is set to the file's content (trailing newlines
# dropped) and <NAME>_FILE is unset. GATEWAY_SIGNING_KEY_FILE is left alone: it is itself a setting (the
# gateway reads the PEM file). Setting both <NAME> and <NAME>_FILE is refused. Values are never printed.
set -eu

cd "$(dirname "$0")/../.."  # the application root (/app in the image; the checkout outside one)

for file_var in $(env | sed -n 's/^\(\(GATEWAY\|REGISTRY\|CONTRACTS\|HOMECARE\|INDICATORS\|RESIDENTS\)_[A-Z0-9_]*_FILE\)=.*$/\1/p'); do
  [ "$file_var" = GATEWAY_SIGNING_KEY_FILE ] && continue
  name=${file_var%_FILE}
  if [ -n "$(printenv "$name" || true)" ]; then
    echo "entrypoint: $name and $file_var are both set; set one of them" >&2
    exit 64
  fi
  path=$(printenv "$file_var")
  if [ ! -f "$path" ] || [ ! -r "$path" ]; then
    echo "entrypoint: $file_var names $path, which is not a readable file" >&2
    exit 66
  fi
  value=$(cat "$path")
  export "$name=$value"
  unset "$file_var"
done

command=${1:-serve}
[ $# -gt 0 ] && shift
case "$command" in
  serve)
    : "${SERVICE:?entrypoint: SERVICE (gateway, registry, contracts, homecare, indicators, residents) is not set}"
    : "${PORT:?entrypoint: PORT is not set}"
    # several workers share their /metrics through prometheus-client's multiprocess mode: a directory of
    # their own, emptied before they start (libs/common/metrics.py); one worker counts alone
    if [ "${WEB_CONCURRENCY:-1}" -gt 1 ]; then
      export PROMETHEUS_MULTIPROC_DIR="${PROMETHEUS_MULTIPROC_DIR:-${TMPDIR:-/tmp}/prometheus-multiproc}"
      rm -rf "$PROMETHEUS_MULTIPROC_DIR"
      mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
    fi
    exec python -m uvicorn "services.${SERVICE}.app:app" \
      --host "${HOST:-0.0.0.0}" --port "$PORT" \
      --workers "${WEB_CONCURRENCY:-1}" \
      --timeout-graceful-shutdown "${GRACEFUL_SHUTDOWN_SECONDS:-20}" \
      --no-access-log "$@"
    ;;
  migrate)
    : "${SERVICE:?entrypoint: SERVICE is not set}"
    exec python -m alembic -n "$SERVICE" upgrade head
    ;;
  *)
    exec "$command" "$@"
    ;;
esac
