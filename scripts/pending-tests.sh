#!/usr/bin/env bash
# Names the tests of a swift-testing log that started and never passed or failed: what a run
# that hangs was waiting for. Lines of tests running in parallel can interleave, so events are
# looked for anywhere in a line. Usage: scripts/pending-tests.sh LOG
set -euo pipefail
log="${1:?usage: pending-tests.sh LOG}"
sed -E 's/\x1b\[[0-9;]*m//g' "$log" | awk '
  {
    line = $0
    while (match(line, /Test "[^"]*" started\./)) {
      name = substr(line, RSTART + 5, RLENGTH - 5 - 9)
      if (!(name in seen)) { seen[name] = 1; order[++count] = name }
      line = substr(line, RSTART + RLENGTH)
    }
    line = $0
    while (match(line, /Test "[^"]*" (with [0-9]+ test cases? )?(passed|failed)/)) {
      event = substr(line, RSTART + 5, RLENGTH - 5)
      sub(/" (with [0-9]+ test cases? )?(passed|failed)$/, "\"", event)
      ended[event] = 1
      line = substr(line, RSTART + RLENGTH)
    }
  }
  END {
    pending = 0
    for (i = 1; i <= count; i++) if (!(order[i] in ended)) { print "  still running: " order[i]; pending++ }
    if (pending == 0) print "  (none: every test that started ended)"
  }'
