# Huiqi service image. Build: docker build -t huiqi .
# Run:   docker run -p 8000:8000 -e DATABASE_URL=postgresql+psycopg://user:pass@db:5432/huiqi huiqi
# DATABASE_URL (or APP_DATABASE_URL) selects the database; without it an SQLite file in /srv/huiqi/var
# is used (mount a volume there to keep it). Migrations run on every start, then uvicorn serves on PORT.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8000 \
    WEB_CONCURRENCY=2 \
    DATABASE_URL=sqlite:////srv/huiqi/var/huiqi.db

WORKDIR /srv/huiqi

# Dependencies first (cached until the lock changes), pinned and verified by hash. The production lock
# leaves out the test tools (pytest, playwright, schemathesis) that requirements.lock adds.
COPY requirements-prod.lock ./
RUN pip install --require-hashes -r requirements-prod.lock

RUN groupadd --system huiqi && useradd --system --gid huiqi --home-dir /srv/huiqi --no-create-home huiqi

COPY alembic.ini ./
COPY migrations ./migrations
COPY app ./app
COPY rules ./rules
COPY seeds ./seeds
RUN mkdir -p var && chown huiqi:huiqi var

USER huiqi
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s \
    CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/readyz', timeout=2)"

# exec: uvicorn replaces the shell, so it gets SIGTERM directly and shuts down cleanly.
CMD ["sh", "-c", "alembic upgrade head && exec uvicorn app.main:create_app --factory --host 0.0.0.0 --port \"$PORT\" --workers \"$WEB_CONCURRENCY\" --no-proxy-headers --no-access-log --timeout-graceful-shutdown 3"]
