# syntax=docker/dockerfile:1.7
# The platform's images, one target each (README, "Containers"):
#   docker build --target registry -t yiyang/registry:TAG .      (likewise gateway, contracts, homecare,
#   indicators, residents) and --target console for the web console behind nginx.
# A service image starts `deploy/docker/entrypoint.sh serve` (uvicorn, $WEB_CONCURRENCY workers) and runs
# its migrations with the `migrate` command (the one-shot job before the services start).
# No container engine runs where this is developed: tests/deploy/test_dockerfile.py checks this file
# instead of hadolint (pinned bases, non-root final stages, HEALTHCHECK, apt hygiene, COPY --chown, every
# COPY source present and not excluded by .dockerignore, a target per service) and
# tests/deploy/test_startup_commands.py runs the same start-up commands outside a container.

# ---- Python dependencies as wheels, exactly as pyproject.toml pins them (the build tools stay here) ----
FROM python:3.11.11-slim-bookworm AS python-build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libffi-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /build
COPY --chown=root:root pyproject.toml ./
# [project].dependencies only (not the dev extras); the project's own code is copied, not installed
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]))' \
        > requirements.txt \
    && pip wheel --wheel-dir /wheels --requirement requirements.txt

# ---- what every service image shares: the wheels installed offline, the code read-only, a plain user ----
FROM python:3.11.11-slim-bookworm AS python-runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HOST=0.0.0.0 \
    WEB_CONCURRENCY=2 \
    GRACEFUL_SHUTDOWN_SECONDS=20
RUN groupadd --system --gid 10001 yiyang \
    && useradd --system --uid 10001 --gid yiyang --home-dir /app --no-create-home \
        --shell /usr/sbin/nologin yiyang
RUN --mount=type=bind,from=python-build,source=/wheels,target=/wheels \
    pip install --no-index --find-links=/wheels /wheels/*.whl
WORKDIR /app
# owned by root: the service user reads the code and cannot change it
COPY --chown=root:root alembic.ini pyproject.toml ./
COPY --chown=root:root libs ./libs
COPY --chown=root:root services ./services
COPY --chown=root:root migrations ./migrations
COPY --chown=root:root deploy/docker/entrypoint.sh deploy/docker/healthcheck.py ./deploy/docker/
RUN python -m compileall -q libs services migrations
USER 10001:10001
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "/app/deploy/docker/healthcheck.py"]
ENTRYPOINT ["sh", "/app/deploy/docker/entrypoint.sh"]
CMD ["serve"]

# ---- one target per service (SERVICE and PORT as in ARCHITECTURE.md and deploy/local/run.py) ----
FROM python-runtime AS gateway
ENV SERVICE=gateway \
    PORT=8000
EXPOSE 8000

FROM python-runtime AS registry
ENV SERVICE=registry \
    PORT=8001
EXPOSE 8001

FROM python-runtime AS contracts
ENV SERVICE=contracts \
    PORT=8002
EXPOSE 8002

FROM python-runtime AS homecare
ENV SERVICE=homecare \
    PORT=8003
EXPOSE 8003

FROM python-runtime AS indicators
ENV SERVICE=indicators \
    PORT=8004
EXPOSE 8004

FROM python-runtime AS residents
ENV SERVICE=residents \
    PORT=8005
EXPOSE 8005

# ---- the web console: built with Node, served by nginx (unprivileged image: uid 101, port 8080) ----
FROM node:20.19.0-bookworm-slim AS console-build
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /web
COPY --chown=node:node web/package.json web/package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY --chown=node:node web ./
RUN npm run build

FROM nginxinc/nginx-unprivileged:1.27.4-alpine AS console
# the gateway the console's /api goes to (nginx's image substitutes it into the template at start)
ENV GATEWAY_UPSTREAM=http://gateway:8000
COPY --chown=root:root deploy/docker/nginx/default.conf.template /etc/nginx/templates/default.conf.template
COPY --chown=root:root deploy/docker/nginx/console-security-headers.conf /etc/nginx/snippets/console-security-headers.conf
COPY --chown=root:root --from=console-build /web/dist /usr/share/nginx/html
USER 101:101
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/healthz"]
