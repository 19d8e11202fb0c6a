# The image of any Flotilla service. Build from the repo root (the shared library comes along):
#   docker build --build-arg SERVICE=items -t flotilla/items .      (or: nox -s build -- items)
# PYTHON_IMAGE swaps the base, e.g. a locally built one on an air-gapped machine.
ARG PYTHON_IMAGE=python:3.12-slim

# Builder: install exactly what uv.lock pins into /opt/venv, then the workspace packages.
FROM ${PYTHON_IMAGE} AS builder
ARG SERVICE
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_PYTHON_DOWNLOADS=never \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_NO_CACHE=1 \
    PIP_ROOT_USER_ACTION=ignore
RUN pip install --no-cache-dir uv==0.13.9
WORKDIR /src
# Dependencies first, from the lock file alone: this layer survives source edits.
COPY pyproject.toml uv.lock ./
COPY libs/flotilla/pyproject.toml libs/flotilla/
COPY services/${SERVICE}/pyproject.toml services/${SERVICE}/
RUN test -n "${SERVICE}" && uv sync --frozen --no-dev --package "${SERVICE}" --no-install-workspace
COPY libs/flotilla libs/flotilla
COPY services/${SERVICE} services/${SERVICE}
# /app: what the runtime needs besides the virtualenv, the migrations if the service has any.
RUN uv sync --frozen --no-dev --package "${SERVICE}" --no-editable \
    && mkdir /app \
    && if [ -f "services/${SERVICE}/alembic.ini" ]; then \
        cp -r "services/${SERVICE}/alembic.ini" "services/${SERVICE}/migrations" /app/; \
    fi

# Runtime: the same base, the virtualenv, the migrations; no uv, no sources, no caches.
FROM ${PYTHON_IMAGE}
ARG SERVICE
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    FLOTILLA_SERVICE=${SERVICE}
# /var/lib/flotilla: a service's data directory, for a volume (users keeps its dev key there).
RUN groupadd --gid 10001 flotilla \
    && useradd --uid 10001 --gid flotilla --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin flotilla \
    && install -d -o flotilla -g flotilla -m 0700 /var/lib/flotilla
COPY --from=builder /opt/venv /opt/venv
# `alembic upgrade head` from here migrates the service's database.
COPY --from=builder /app /app
WORKDIR /app
USER 10001:10001
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
# The server options of every Flotilla service live in flotilla.server.
CMD ["python", "-m", "flotilla.server", "--host", "0.0.0.0", "--port", "8000"]
