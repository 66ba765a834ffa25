#!/usr/bin/env bash
# Installs LocalStack's S3 (localstack-core, pinned, with its whole dependency set pinned) from PyPI
# into its own virtualenv, if it is not there already, and prints the absolute path of the command
# that starts it: `chom-localstack-s3`, a small wrapper written into the venv by this script.
# Unlike moto, LocalStack verifies SigV4 presigned query-string URLs (X-Amz-Signature, X-Amz-Expires):
# the live tests start it on 127.0.0.1 (see Sources/CHOMTesting/LocalStackS3Server.swift).
#
#   localstack=$(scripts/install-localstack.sh)      # stdout is exactly that one line; logs go to stderr
#   "$localstack" -H 127.0.0.1 -p 4566 -d /tmp/ls    # S3 only, no Docker, offline; all its files under -d
#
# Where: ${CHOM_LOCALSTACK_VENV:-<repository>/.build-tools/localstack}, the default the tests look in; a
# venv elsewhere is found by the tests through CHOM_LOCALSTACK_VENV or CHOM_LOCALSTACK_SERVER (the wrapper).
# Python: ${CHOM_PYTHON:-python3} (3.11 or newer); if it cannot make a venv and we are root,
# Debian's python3-venv is installed and /usr/bin/python3 used.
# Idempotent: a venv whose stamp matches the pins and the wrapper below is reused as is; otherwise it is rebuilt.
set -euo pipefail

version=4.13.1
# localstack-core 4.14.0 and later use Python 3.12 syntax (class C[T]) despite Requires-Python >=3.10,
# so 4.13.1 is the newest that runs on Debian 12's Python 3.11. Its dependencies must be pinned: the
# newest releases break it (cbor2 6 has no cbor2._decoder; pyOpenSSL 26 has no X509.add_extensions).
# These are upstream's own lock for 4.13.1 (requirements-base-runtime.txt at tag v4.13.1), which is
# also exactly what `pip freeze` shows after installing them in a fresh venv (Debian 12 / CPython 3.11).
# The base-runtime extra is enough for S3; the runtime extra (moto-ext, awscli, JPype, ...) is not needed.
requirements="localstack-core[base-runtime]==$version
annotated-types==0.7.0
asn1crypto==1.5.1
attrs==25.4.0
awscrt==0.31.1
boto3==1.42.34
botocore==1.42.34
cachetools==6.2.5
cbor2==5.8.0
certifi==2026.1.4
cffi==2.0.0
charset-normalizer==3.4.4
click==8.3.1
constantly==23.10.4
cryptography==46.0.3
dill==0.3.6
dnslib==0.9.26
dnspython==2.8.0
docker==7.1.0
h11==0.16.0
h2==4.3.0
hpack==4.1.0
Hypercorn==0.18.0
hyperframe==6.1.0
hyperlink==21.0.0
idna==3.11
Incremental==24.11.0
isodate==0.7.2
jmespath==1.1.0
jsonpatch==1.33
jsonpointer==3.0.0
jsonschema==4.26.0
jsonschema-path==0.3.4
jsonschema-specifications==2025.9.1
lazy-object-proxy==1.12.0
localstack-twisted==24.3.0
markdown-it-py==4.0.0
MarkupSafe==3.0.3
mdurl==0.1.2
more-itertools==10.8.0
openapi-core==0.22.0
openapi-schema-validator==0.6.3
openapi-spec-validator==0.7.2
packaging==26.0
pathable==0.4.4
plux==1.14.0
priority==1.3.0
psutil==7.2.1
pycparser==3.0
pydantic==2.12.5
pydantic_core==2.41.5
Pygments==2.19.2
pyOpenSSL==25.3.0
python-dateutil==2.9.0.post0
python-dotenv==1.2.1
PyYAML==6.0.3
readerwriterlock==1.0.9
referencing==0.36.2
requests==2.32.5
requests-aws4auth==1.3.1
rfc3339-validator==0.1.4
rich==14.3.1
rolo==0.7.6
rpds-py==0.30.0
s3transfer==0.16.0
semver==3.0.4
six==1.17.0
typing-inspection==0.4.2
typing_extensions==4.15.0
urllib3==2.6.3
Werkzeug==3.1.5
wsproto==1.3.2
xmltodict==1.0.2
zope.interface==8.2
"

# The wrapper (its first line, the venv's python, is added below). Everything LocalStack would write
# (state, caches, certificates, S3 spool files) goes under -d; its settings are forced, not inherited.
wrapper='"""LocalStack S3 for CHOM tests: S3 only, host mode (no Docker), offline, presigned-URL checks on.

usage: chom-localstack-s3 [-H 127.0.0.1] -p PORT -d DIR

Answers on http://HOST:PORT (path-style and virtual-host addressing). Presigned SigV4 URLs are verified
(signature, X-Amz-Expires) against the secret access key "test", whatever the access key id; requests
signed with an Authorization header, or not signed at all, are NOT verified (LocalStack never does).
Ready when GET /_localstack/health answers 200 with "s3": "running". SIGTERM stops it (within ~7 s).
Written by scripts/install-localstack.sh.
"""
import argparse
import os
import sys
import tempfile

parser = argparse.ArgumentParser(prog="chom-localstack-s3", description=__doc__.splitlines()[0])
parser.add_argument("-H", "--host", default="127.0.0.1")
parser.add_argument("-p", "--port", type=int, required=True)
parser.add_argument("-d", "--dir", required=True, help="created if missing; all of its files go there")
arguments = parser.parse_args()
root = os.path.abspath(arguments.dir)
for sub in ("home", "tmp", "fs", "config", "s3"):
    os.makedirs(os.path.join(root, sub), exist_ok=True)
os.environ.update(
    {
        "HOME": os.path.join(root, "home"),
        "XDG_CACHE_HOME": os.path.join(root, "home", ".cache"),
        "CONFIG_DIR": os.path.join(root, "config"),
        "FILESYSTEM_ROOT": os.path.join(root, "fs"),
        "OVERRIDE_IN_DOCKER": "0",
        "GATEWAY_LISTEN": f"{arguments.host}:{arguments.port}",
        "GATEWAY_SERVER": "hypercorn",  # the twisted server binds 0.0.0.0 whatever GATEWAY_LISTEN says
        "SERVICES": "s3",
        "EAGER_SERVICE_LOADING": "1",
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "PERSISTENCE": "0",
        "DISABLE_EVENTS": "1",
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        "DNS_ADDRESS": "0",
        "DEBUG": "0",
    }
)
tempfile.tempdir = os.path.join(root, "tmp")
# The service catalog index the installer built (LocalStack reads it from its static libs, never writes
# it there): without it every start spends ~10 s CPU and ~350 MB building its own.
static = os.path.join(sys.prefix, "share", "chom-localstack", "static")
link = os.path.join(root, "fs", "usr", "lib", "localstack")
if os.path.isdir(static) and not os.path.lexists(link):
    os.makedirs(os.path.dirname(link), exist_ok=True)
    os.symlink(static, link)

from localstack.services.s3 import provider  # noqa: E402

# Otherwise the hard-coded /tmp/localstack-s3-storage, shared by every LocalStack on the machine.
provider.DEFAULT_S3_TMP_DIR = os.path.join(root, "s3")

from localstack.runtime.main import main  # noqa: E402

main()
'

# Builds LocalStack's service catalog index (~10 s) into the directory given, for the wrapper to link in.
catalog='import os, sys
from localstack.aws.spec import _get_catalog_filename, build_service_index_cache
build_service_index_cache(os.path.join(sys.argv[1], _get_catalog_filename()))
'

log() { echo "install-localstack.sh: $*" >&2; }

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
venv=${CHOM_LOCALSTACK_VENV:-$root/.build-tools/localstack}
mkdir -p "$(dirname -- "$venv")"
venv=$(cd -- "$(dirname -- "$venv")" && pwd)/$(basename -- "$venv")
server=$venv/bin/chom-localstack-s3
stamp_file=$venv/.chom-requirements
static=$venv/share/chom-localstack/static
stamp=$(printf '%s\n%s\n%s\n' "$requirements" "$wrapper" "$catalog" | sha256sum | cut -d' ' -f1)

if [ -x "$server" ] && [ -f "$stamp_file" ] && [ "$(cat "$stamp_file")" = "$stamp" ] \
  && compgen -G "$static/service-catalog-*.dill" >/dev/null \
  && "$venv/bin/python" -c 'import localstack.runtime.main' >/dev/null 2>&1; then
  echo "$server"
  exit 0
fi

# shellcheck source=scripts/lib/pinned-venv.sh
. "$(dirname -- "${BASH_SOURCE[0]}")/lib/pinned-venv.sh"
log "installing localstack-core $version from PyPI (a few minutes)"
pinned_venv_install "$venv" "$requirements"
"$venv/bin/python" -c 'import localstack.services.s3.provider, localstack.runtime.main' >&2
log "building LocalStack's service catalog index"
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
rm -rf "$static" "$static.tmp"
mkdir -p "$static.tmp"
# HOME and CONFIG_DIR: LocalStack's config reads profiles from ~/.localstack and may write caches.
HOME=$scratch CONFIG_DIR=$scratch/config "$venv/bin/python" -c "$catalog" "$static.tmp" >&2
mv "$static.tmp" "$static"
{ printf '#!%s\n' "$venv/bin/python"; printf '%s' "$wrapper"; } >"$server.tmp"
chmod 755 "$server.tmp"
mv -f "$server.tmp" "$server"
printf '%s\n' "$stamp" >"$stamp_file"
echo "$server"
