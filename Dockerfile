# One image for the web, worker and release processes.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

# htmx for the pages; not axe-core, a devDependency the browser tests alone use
FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --omit=dev

# htmx's files under the names package.json's versions give them (webapp/vendor.py)
FROM base AS vendor
COPY package.json ./
COPY webapp/vendor.py ./webapp/
COPY --from=assets /assets/node_modules ./node_modules
RUN python webapp/vendor.py node_modules static/vendor

FROM base
RUN useradd --create-home --uid 10001 pulseboard
COPY pyproject.toml constraints.txt README.md ./
COPY webapp ./webapp
COPY worker ./worker
RUN pip install --no-cache-dir -c constraints.txt .
COPY templates ./templates
COPY static ./static
COPY Procfile package.json ./
COPY --from=vendor /app/static/vendor ./static/vendor
USER pulseboard
ENV PULSEBOARD_ENV=production PORT=8000
EXPOSE 8000
CMD ["gunicorn", "--config", "webapp/gunicorn_conf.py", "webapp.wsgi:app"]
