#!/bin/sh
# Entry point of the smartstreets image: put passwords from secret files into the service URLs,
# then run the command (e.g. 'smartstreets api').
#
# The settings read SMARTSTREETS_DATABASE_URL and SMARTSTREETS_MQTT_URL as plain variables, and a
# password must not sit in compose.yaml or a pod spec; so the URLs are given without one, and
# DATABASE_PASSWORD_FILE / MQTT_PASSWORD_FILE name the files (compose or Kubernetes secrets)
# whose contents are URL-encoded into them here.
set -eu

with_password() {
    python3 - "$1" "$2" <<'PY'
import sys
from urllib.parse import quote, urlsplit, urlunsplit

url, path = sys.argv[1:]
with open(path, encoding="utf-8") as f:
    password = f.read().strip()
parts = urlsplit(url)
if not parts.username:
    sys.exit(f"error: {path} is given but the URL has no user name to go with it")
host = parts.netloc.rsplit("@", 1)[-1]
netloc = f"{quote(parts.username, safe='')}:{quote(password, safe='')}@{host}"
print(urlunsplit(parts._replace(netloc=netloc)))
PY
}

if [ -n "${DATABASE_PASSWORD_FILE:-}" ]; then
    SMARTSTREETS_DATABASE_URL=$(with_password "${SMARTSTREETS_DATABASE_URL:?}" "$DATABASE_PASSWORD_FILE")
    export SMARTSTREETS_DATABASE_URL
fi
if [ -n "${MQTT_PASSWORD_FILE:-}" ]; then
    SMARTSTREETS_MQTT_URL=$(with_password "${SMARTSTREETS_MQTT_URL:?}" "$MQTT_PASSWORD_FILE")
    export SMARTSTREETS_MQTT_URL
fi

exec "$@"
