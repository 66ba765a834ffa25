#!/usr/bin/env bash
# Installs the billing issue's two test peers from PyPI, pinned with their whole dependency set,
# into one virtualenv, if it is not there already, and prints the absolute path of its bin directory:
#   - localstripe, a stateful Stripe API server (customers, invoice items, invoices, payment
#     methods with failing test cards, signed webhooks), for the Stripe adapter's live tests;
#   - aiosmtpd, an SMTP server, for the notification outbox's live tests.
# The tests start `<bin>/localstripe` and `<bin>/aiosmtpd` on 127.0.0.1
# (Sources/CHOMTesting/LocalStripeServer.swift, SMTPTestServer.swift).
#
#   bin=$(scripts/install-billing-peers.sh)      # stdout is exactly that one line; logs go to stderr
#
# Where: ${CHOM_BILLING_VENV:-<repository>/.build-tools/billing}, the default the tests look in.
# Idempotent: a venv whose stamp matches the pins below is reused as is; otherwise it is rebuilt.
set -euo pipefail

# Verified together on Debian 12 / CPython 3.11 (pip freeze of a fresh
# `pip install localstripe==1.15.10 aiosmtpd==1.4.6`).
requirements="localstripe==1.15.10
aiosmtpd==1.4.6
aiohappyeyeballs==2.7.1
aiohttp==3.14.5
aiosignal==1.4.0
atpublic==9.0.0
attrs==26.1.0
frozenlist==1.8.0
idna==3.20
multidict==7.2.1
propcache==0.5.4
python-dateutil==4.0.0
typing_extensions==4.16.0
tzdata==2026.6
yarl==1.25.1
"

log() { echo "install-billing-peers.sh: $*" >&2; }

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
venv=${CHOM_BILLING_VENV:-$root/.build-tools/billing}
mkdir -p "$(dirname -- "$venv")"
venv=$(cd -- "$(dirname -- "$venv")" && pwd)/$(basename -- "$venv")
stamp_file=$venv/.chom-requirements
stamp=$(printf '%s\n' "$requirements" | sha256sum | cut -d' ' -f1)

if [ -x "$venv/bin/localstripe" ] && [ -x "$venv/bin/aiosmtpd" ] && [ -f "$stamp_file" ] \
  && [ "$(cat "$stamp_file")" = "$stamp" ]; then
  echo "$venv/bin"
  exit 0
fi

# shellcheck source=scripts/lib/pinned-venv.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/pinned-venv.sh"
log "installing localstripe and aiosmtpd from PyPI"
pinned_venv_install "$venv" "$requirements"
for binary in localstripe aiosmtpd; do
  [ -x "$venv/bin/$binary" ] || { log "no $binary in $venv/bin"; exit 1; }
done
"$venv/bin/python" -c 'import localstripe.server, aiosmtpd.handlers' >&2
printf '%s\n' "$stamp" >"$stamp_file"
echo "$venv/bin"
