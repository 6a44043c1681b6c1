#!/usr/bin/env bash
# `manage.py check --deploy` with production-like settings and throwaway secrets: must be clean.
set -euo pipefail
keyfile=$(mktemp)
trap 'rm -f "$keyfile"' EXIT
.venv/bin/python -c "import base64,os;print('ci:'+base64.b64encode(os.urandom(32)).decode())" > "$keyfile"
RAPPORT_ENV=production \
SECRET_KEY="$(.venv/bin/python -c 'import secrets;print(secrets.token_urlsafe(64))')" \
RAPPORT_ENCRYPTION_KEYS_FILE="$keyfile" \
SITE_URL=https://practice.example \
EMAIL_HOST=smtp.practice.example \
DATABASE_URL=sqlite:///$(pwd)/var/check-deploy.sqlite3 \
.venv/bin/python manage.py check --deploy --fail-level WARNING
