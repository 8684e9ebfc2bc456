# goteo: the web app and the worker, from one image.
#
#   docker build -t goteo .
#   docker compose up -d          # web app, worker and PostgreSQL (compose.yaml)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    GOTEO_DATA_DIR=/data \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

RUN useradd --create-home --uid 1000 goteo && mkdir /data && chown goteo /data
WORKDIR /app
COPY pyproject.toml README.md ./
COPY goteo ./goteo
RUN pip install ".[postgres]" "gunicorn>=22,<24"

USER goteo
VOLUME ["/data"]
EXPOSE 8000
# The web app; the worker runs the same image with: goteo run_worker
CMD ["gunicorn", "goteo.wsgi", "--bind", "0.0.0.0:8000", "--workers", "2", "--access-logfile", "-"]
