#!/usr/bin/env bash
# Installs the Debian packages the test suite needs, only when missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v dot >/dev/null 2>&1 || need+=(graphviz)
# WeasyPrint (the audit dossier's PDF) needs Pango at run time. (grep without -q: an early exit
# would SIGPIPE ldconfig and, under pipefail, report the library missing.)
ldconfig -p | grep 'libpango-1.0.so' >/dev/null || need+=(libpango-1.0-0)
ldconfig -p | grep 'libpangoft2-1.0.so' >/dev/null || need+=(libpangoft2-1.0-0)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ]; then
  echo "system-deps: missing ${need[*]}; install them with: sudo apt-get install -y ${need[*]}" >&2
  exit 1
fi
echo "system-deps: installing ${need[*]} from Debian"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
