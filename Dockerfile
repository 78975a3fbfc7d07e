# One image for the web, worker and release processes.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app

FROM node:20-slim AS assets
WORKDIR /assets
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM base
RUN useradd --create-home --uid 10001 pulseboard
COPY pyproject.toml constraints.txt README.md ./
COPY webapp ./webapp
COPY worker ./worker
RUN pip install --no-cache-dir -c constraints.txt .
COPY templates ./templates
COPY static ./static
COPY Procfile ./
COPY --from=assets /assets/node_modules/htmx.org/dist/htmx.min.js ./static/vendor/htmx-2.0.11.min.js
COPY --from=assets /assets/node_modules/htmx-ext-sse/dist/sse.min.js ./static/vendor/htmx-ext-sse-2.2.4.min.js
USER pulseboard
ENV PULSEBOARD_ENV=production PORT=8000
EXPOSE 8000
CMD ["gunicorn", "--config", "webapp/gunicorn_conf.py", "webapp.wsgi:app"]
