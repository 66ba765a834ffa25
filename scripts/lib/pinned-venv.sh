# shellcheck shell=bash
# Sourced by the scripts that install a Python tool from PyPI into a venv of its own, pinned
# (install-moto.sh, install-localstack.sh, install-schemathesis.sh).
#
#   pinned_venv_install VENV REQUIREMENTS
#
# (Re)creates VENV with ${CHOM_PYTHON:-python3} (3.11 or newer; as root, Debian's python3-venv is
# installed and /usr/bin/python3 used when that python cannot make a venv), removes VENV's stamp
# (.chom-requirements) and pip-installs REQUIREMENTS (one pinned requirement per line). Logs go to
# stderr through the caller's `log` function. The caller checks the result and writes the stamp.

pinned_venv_install() {
  local venv=$1 requirements=$2 python=${CHOM_PYTHON:-python3} requirements_file
  # make_venv PYTHON: fails if PYTHON is missing, older than 3.11, or has no venv/ensurepip.
  make_venv() {
    command -v "$1" >/dev/null 2>&1 || return 1
    "$1" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { log "$1 is older than 3.11"; return 1; }
    "$1" -m venv --clear "$venv" >&2
  }
  log "creating $venv with $python"
  if ! make_venv "$python"; then
    if [ "$(id -u)" -ne 0 ]; then
      log "$python cannot create a venv (install Debian's python3-venv, run as root, or set CHOM_PYTHON)"
      return 1
    fi
    log "installing Debian's python3 python3-venv"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
    python=/usr/bin/python3
    make_venv "$python" || { log "$python still cannot create a venv"; return 1; }
  fi
  rm -f "$venv/.chom-requirements"
  requirements_file=$(mktemp)
  printf '%s\n' "$requirements" >"$requirements_file"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements_file" >&2; then
    rm -f "$requirements_file"
    return 1
  fi
  rm -f "$requirements_file"
}
