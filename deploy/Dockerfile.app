# The app image: gateway, action server, worker and the `concierge` command (one image, the
# command picks the process). Build from the repository root:
#   docker build -f deploy/Dockerfile.app -t concierge-app:0.1.0 .
# Installs requirements/app.lock exactly as `make install` does (torch first, then the lock
# with --no-deps, then the project in editable mode so its files stay under /app).
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    HF_HUB_OFFLINE=1 \
    TRANSFORMERS_OFFLINE=1 \
    ANONYMIZED_TELEMETRY=False \
    CONCIERGE_DATA_DIR=/data \
    VIRTUAL_ENV=/opt/app \
    PATH=/opt/app/bin:$PATH

RUN groupadd --system --gid 10001 concierge \
    && useradd --system --uid 10001 --gid concierge --home-dir /app --shell /usr/sbin/nologin concierge

WORKDIR /app
COPY requirements/app.lock requirements/constraints.txt requirements/
RUN python -m venv /opt/app \
    && pip install --no-input -q -c requirements/constraints.txt torch==2.13.0 \
    && pip install --no-input -q --no-deps -r requirements/app.lock

COPY pyproject.toml README.md alembic.ini domain.yml config.yml endpoints.yml endpoints.production.yml credentials.yml ./
COPY core core
COPY knowledge knowledge
COPY channels channels
COPY actions actions
COPY bot bot
COPY nlu_components nlu_components
COPY data data
RUN pip install --no-input -q --no-deps --no-build-isolation -e . \
    && mkdir -p /data \
    && chown -R concierge:concierge /data

USER 10001:10001
VOLUME ["/data"]
EXPOSE 8000 5055 8001
# The gateway by default; compose and Kubernetes name the process (actions.server, worker...).
CMD ["python", "-m", "bot.serve", "--host", "0.0.0.0", "--port", "8000"]
