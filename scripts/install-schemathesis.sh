#!/usr/bin/env bash
# Installs schemathesis (pinned, with its whole dependency set pinned) from PyPI into its own
# virtualenv, if it is not there already, and prints the absolute path of its `st` binary.
#
#   st=$(scripts/install-schemathesis.sh)      # stdout is exactly that one line; logs go to stderr
#
# Where: ${CHOM_TOOLS_DIR:-/opt/chom-tools}/schemathesis-venv; when CHOM_TOOLS_DIR is unset and
# /opt/chom-tools cannot be written, ${XDG_CACHE_HOME:-$HOME/.cache}/chom-tools instead.
# Python: ${CHOM_PYTHON:-python3} (3.11 or newer); if it cannot make a venv and we are root,
# Debian's python3-venv is installed and /usr/bin/python3 used.
# Idempotent: a venv whose stamp matches the pins below is reused as is; otherwise it is rebuilt.
set -euo pipefail

version=4.32.5
# Verified together on Debian 12 / CPython 3.11 (pip freeze of a fresh install of the version above).
requirements="schemathesis==$version
anyio==4.16.0
certifi==2026.10.19.post1
charset-normalizer==3.5.3
click==8.5.1
graphql-core==3.3.2
harfile==0.6.0
hypothesis==6.170.17
hypothesis-graphql==0.13.5
idna==3.20
iniconfig==2.3.1
jsonschema_rs==0.60.3
markdown-it-py==4.3.0
MarkupSafe==3.0.4
mdurl==0.1.2
packaging==26.4
pluggy==1.7.0
Pygments==2.21.0
pyrate-limiter==4.5.1
pytest==9.2.0
PyYAML==6.0.4
requests==2.34.2
rich==15.0.0
sortedcontainers==2.4.0
typing_extensions==4.16.0
urllib3==2.8.0
Werkzeug==3.1.9"

log() { echo "install-schemathesis.sh: $*" >&2; }

if [ -n "${CHOM_TOOLS_DIR:-}" ]; then
  tools_dir=$CHOM_TOOLS_DIR
  mkdir -p "$tools_dir"
else
  tools_dir=/opt/chom-tools
  if ! mkdir -p "$tools_dir" 2>/dev/null || [ ! -w "$tools_dir" ]; then
    tools_dir=${XDG_CACHE_HOME:-$HOME/.cache}/chom-tools
    mkdir -p "$tools_dir"
  fi
fi
venv=$tools_dir/schemathesis-venv
st=$venv/bin/st
stamp_file=$venv/.chom-requirements
stamp=$(printf '%s\n' "$requirements" | sha256sum | cut -d' ' -f1)

if [ -x "$st" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
  && "$st" --version >/dev/null 2>&1; then
  echo "$st"
  exit 0
fi

# shellcheck source=scripts/lib/pinned-venv.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/pinned-venv.sh"
log "installing schemathesis $version from PyPI"
pinned_venv_install "$venv" "$requirements"
"$st" --version >&2
printf '%s\n' "$stamp" >"$stamp_file"
echo "$st"
