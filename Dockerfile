# Fixit in HTTP mode: Bolt's /slack/events, /healthz and /readyz on port 3000 (docs/deployment.md).
# No secrets in the image: Slack tokens come from the environment at run time (--env-file, compose's
# env_file, a Kubernetes Secret).

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
RUN pip wheel --no-cache-dir --disable-pip-version-check --no-deps --wheel-dir /wheels .

FROM python:3.12-slim
# the package itself (not editable), with its postgres extra (psycopg[binary]) for PostgreSQL
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --disable-pip-version-check "$(echo /wheels/fixit-*.whl)[postgres]" \
    && rm -rf /wheels
RUN groupadd --system --gid 10001 fixit \
    && useradd --system --uid 10001 --gid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin fixit \
    && mkdir -p /app /data \
    && chown 10001:10001 /app /data
WORKDIR /app
# The knowledge base, read-only for the app user (mount another folder and set FIXIT_KB_DIR to serve yours).
# /app itself is the user's, so relative paths (.fixit/kb-last-good, sqlite:///fixit.db, from a .env copied
# from .env.example) still work, if only for the container's life; /data is the volume meant for them.
COPY knowledge ./knowledge
ENV FIXIT_KB_DIR=/app/knowledge \
    FIXIT_KB_LAST_GOOD=/data/kb-last-good \
    FIXIT_DATABASE_URL=sqlite:////data/fixit.db \
    FIXIT_DRAFTS_DIR=/data/drafts
VOLUME ["/data"]
USER 10001:10001
EXPOSE 3000
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/readyz', timeout=4)"]
CMD ["python", "-m", "bot", "serve", "--http", "--host", "0.0.0.0", "--port", "3000"]
