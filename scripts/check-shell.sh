#!/usr/bin/env bash
#
# check-shell.sh — run shellcheck on every shell script in the repository.
#
# Files are the *.sh files known to git (tracked, plus untracked files that
# are not ignored, so new scripts are checked before their first commit).
# Outside a git checkout, or without git, it falls back to find(1).
# Exit status: 0 clean, 1 shellcheck findings, 2 usage/environment error.
# Extra shellcheck options can be passed via SHELLCHECK_OPTS as usual.

set -euo pipefail

PROG=${0##*/}
readonly PROG

if (($# > 0)); then
    case $1 in
        -h | --help)
            printf 'Usage: %s\nRun shellcheck on all *.sh files of the repository.\n' "$PROG"
            exit 0
            ;;
        *)
            printf '%s: error: unexpected argument (see --help)\n' "$PROG" >&2
            exit 2
            ;;
    esac
fi

if ! command -v shellcheck >/dev/null 2>&1; then
    printf '%s: error: shellcheck is not installed (apt-get install shellcheck)\n' "$PROG" >&2
    exit 2
fi

# Work from the repository root (this script lives in <root>/scripts).
cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

files=()
if command -v git >/dev/null 2>&1 && git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    while IFS= read -r -d '' f; do
        # --cached also lists tracked files deleted in the work tree.
        if [[ -f $f ]]; then
            files+=("$f")
        fi
    done < <(git ls-files -z --cached --others --exclude-standard -- '*.sh' | sort -zu)
else
    while IFS= read -r -d '' f; do
        files+=("$f")
    done < <(find . -name '*.sh' -type f -not -path './.build*' -not -path './.git/*' -print0 | sort -z)
fi

if ((${#files[@]} == 0)); then
    printf '%s: no shell scripts found\n' "$PROG"
    exit 0
fi

printf '%s: checking %d file(s)\n' "$PROG" "${#files[@]}"
if shellcheck --external-sources -- "${files[@]}"; then
    printf '%s: ok\n' "$PROG"
    exit 0
else
    rc=$?
fi
printf '%s: shellcheck reported problems (status %d)\n' "$PROG" "$rc" >&2
exit 1
