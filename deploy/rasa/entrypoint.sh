#!/bin/sh
# Start the Rasa server of a production deployment: endpoints.production.yml (PostgreSQL
# tracker store, Redis lock store, RabbitMQ event broker), the image's model and the HTTP
# API's token. Every variable it needs is named when missing, and every service that does not
# answer (python -m core.services --rasa-endpoints), before Rasa starts.
set -eu
missing=""
for name in CONCIERGE_RASA_AUTH_TOKEN CONCIERGE_ACTION_ENDPOINT \
    CONCIERGE_TRACKER_DB_HOST CONCIERGE_TRACKER_DB_PORT CONCIERGE_TRACKER_DB \
    CONCIERGE_TRACKER_DB_USER CONCIERGE_TRACKER_DB_PASSWORD \
    CONCIERGE_LOCK_STORE_HOST CONCIERGE_LOCK_STORE_PORT CONCIERGE_LOCK_STORE_DB \
    CONCIERGE_LOCK_STORE_PASSWORD \
    CONCIERGE_EVENT_BROKER_HOST CONCIERGE_EVENT_BROKER_PORT CONCIERGE_EVENT_BROKER_USER \
    CONCIERGE_EVENT_BROKER_PASSWORD CONCIERGE_EVENT_BROKER_QUEUE; do
    eval "set_=\${$name+x}"
    [ -n "$set_" ] || missing="$missing $name"
done
if [ -n "$missing" ]; then
    echo "error: Rasa needs these environment variables:$missing (see docs/production.md)" >&2
    exit 2
fi
# Rasa's tracker store would retry an unreachable database without end: name it instead.
python -m core.services --rasa-endpoints || {
    echo "error: Rasa is not started: a service above does not answer" >&2
    exit 1
}
exec rasa run --enable-api \
    --model "${CONCIERGE_RASA_MODEL:-/app/models/concierge.tar.gz}" \
    --endpoints "${CONCIERGE_RASA_ENDPOINTS:-/app/endpoints.production.yml}" \
    --credentials "${CONCIERGE_RASA_CREDENTIALS:-/app/credentials.yml}" \
    --interface 0.0.0.0 --port "${CONCIERGE_RASA_PORT:-5005}" \
    --auth-token "$CONCIERGE_RASA_AUTH_TOKEN" "$@"
