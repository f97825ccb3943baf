# PersonalPod's production image: the Django app, served by gunicorn; the same image runs
# the Celery worker and beat with another command (see docker-compose.yml).
# Browser libraries for the web UI come from the npm registry (package.json, locked).
FROM node:20-bookworm-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error

FROM python:3.11-slim-bookworm AS base

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# pg_dump, pg_restore and psql for `manage.py backup`, `restore` and `verify_backup`: their
# major version must match the server's (pg_dump refuses a newer server). Debian bookworm
# ships 15; any other major comes from the PostgreSQL project's own apt repository.
ARG POSTGRES_MAJOR=15
RUN apt-get update \
 && if ! apt-cache show "postgresql-client-${POSTGRES_MAJOR}" >/dev/null 2>&1; then \
      apt-get install --yes --no-install-recommends ca-certificates curl gnupg \
      && install -d /usr/share/postgresql-common/pgdg \
      && curl -fsSL https://www.postgresql.org/media/keys/ACCC4CF8.asc \
         | gpg --dearmor -o /usr/share/postgresql-common/pgdg/apt.postgresql.org.gpg \
      && echo "deb [signed-by=/usr/share/postgresql-common/pgdg/apt.postgresql.org.gpg] https://apt.postgresql.org/pub/repos/apt bookworm-pgdg main" \
         > /etc/apt/sources.list.d/pgdg.list \
      && apt-get update; \
    fi \
 && apt-get install --yes --no-install-recommends "postgresql-client-${POSTGRES_MAJOR}" \
 && rm -rf /var/lib/apt/lists/*

RUN groupadd --system personalpod && useradd --system --gid personalpod --home /app personalpod
WORKDIR /app

COPY requirements.txt constraints.txt ./
RUN pip install -r requirements.txt -c constraints.txt

COPY . .
COPY --from=assets /build/node_modules/htmx.org/dist/ node_modules/htmx.org/dist/
# collectstatic needs settings, not secrets or services: throwaway values for this one step.
RUN DJANGO_SETTINGS_MODULE=personalpod.settings.production \
    SECRET_KEY=collectstatic-only-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJ \
    ALLOWED_HOSTS=build DATABASE_URL=postgresql://build/build?sslmode=require DATABASE_POOL=0 \
    ENCRYPTION_LOCAL_KEYS=1:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= \
    python manage.py collectstatic --no-input \
 && mkdir -p /app/.data/backups \
 && chown -R personalpod:personalpod /app

USER personalpod
ENV DJANGO_SETTINGS_MODULE=personalpod.settings.production \
    HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=3)"

CMD ["gunicorn", "--config", "gunicorn.conf.py", "personalpod.wsgi"]
