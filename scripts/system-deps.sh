#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when missing:
#   chromium         Playwright's browser tests drive Debian's Chromium (never a downloaded build)
#   graphviz         `dot`, which draws the workflow diagram (graph_transitions)
#   libpango-1.0-0   WeasyPrint's text layout, for the PDF dossier
#   libpangoft2-1.0-0
#
# `--runtime` (what `make run` calls): only what the running site needs, Pango for the PDF
# dossier; when it cannot install (not root, no apt-get) it warns and goes on, since the site
# works without it (the PDF answers 503 naming the library, the JSON dossier still works).
set -euo pipefail

runtime=0
[ "${1:-}" = "--runtime" ] && runtime=1

need=()
if [ $runtime = 0 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
  command -v dot >/dev/null 2>&1 || need+=(graphviz)
fi
has_lib() { ldconfig -p 2>/dev/null | grep -q "$1"; }
has_lib 'libpango-1.0.so' || need+=(libpango-1.0-0)
has_lib 'libpangoft2-1.0.so' || need+=(libpangoft2-1.0-0)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi

if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  if [ $runtime = 1 ]; then
    echo "system-deps: ${need[*]} missing, so PDF dossiers will answer 503 until installed" \
         "(sudo apt-get install -y ${need[*]}); everything else works." >&2
    exit 0
  fi
  echo "system-deps: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]} from Debian"
apt-get update -qq </dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" </dev/null >/dev/null
