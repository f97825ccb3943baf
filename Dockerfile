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

# postgresql-client: pg_dump and pg_restore for operators inside the container.
RUN apt-get update \
 && apt-get install --yes --no-install-recommends postgresql-client \
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
 && mkdir -p /app/.data \
 && chown -R personalpod:personalpod /app

USER personalpod
ENV DJANGO_SETTINGS_MODULE=personalpod.settings.production \
    HOST=0.0.0.0 \
    PORT=8000
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD python -c "import os, urllib.request; urllib.request.urlopen(f'http://127.0.0.1:{os.environ[\"PORT\"]}/healthz', timeout=3)"

CMD ["gunicorn", "--config", "gunicorn.conf.py", "personalpod.wsgi"]
