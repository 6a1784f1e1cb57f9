-- Runs once, when PostgreSQL's volume is first initialised (docker-entrypoint-initdb.d, in
-- compose and Kubernetes): creates Rasa's tracker database "rasa" next to the app's.
SELECT 'CREATE DATABASE rasa OWNER concierge'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'rasa')\gexec
