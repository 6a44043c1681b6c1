#!/usr/bin/env bash
# Start the PostgreSQL and Redis servers the test suite uses, and make the test role (idempotent).
set -euo pipefail
PG_USER=${RAPPORT_TEST_PG_USER:-rapport}
PG_PASSWORD=${RAPPORT_TEST_PG_PASSWORD:-rapport-test-only}
if command -v pg_lsclusters >/dev/null 2>&1; then
  cluster=$(pg_lsclusters --no-header | awk 'NR==1 {print $1" "$2}')
  if [ -n "$cluster" ] && ! pg_lsclusters --no-header | awk 'NR==1 {print $4}' | grep -q online; then
    pg_ctlcluster $cluster start
  fi
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 && break
  sleep 0.5
done
pg_isready -h 127.0.0.1 >/dev/null || { echo "PostgreSQL is not answering on 127.0.0.1:5432" >&2; exit 1; }
if [ "$(id -u)" = 0 ]; then
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_roles WHERE rolname='${PG_USER}'" | grep -q 1 \
    || runuser -u postgres -- psql -qc "CREATE ROLE ${PG_USER} LOGIN CREATEDB PASSWORD '${PG_PASSWORD}'"
  runuser -u postgres -- psql -qtAc "SELECT 1 FROM pg_database WHERE datname='${PG_USER}'" | grep -q 1 \
    || runuser -u postgres -- createdb -O "${PG_USER}" "${PG_USER}"
fi
if command -v redis-server >/dev/null 2>&1 && ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null
  for _ in $(seq 1 20); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 0.25; done
fi
