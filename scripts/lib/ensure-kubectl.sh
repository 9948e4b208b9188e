#!/usr/bin/env bash
# Make sure kubectl is installed for the kubectl test in tests/sim/kubectl.rs (kubectl against the simulated
# API served on loopback). scripts/test.sh runs every scripts/lib/ensure-*.sh. Idempotent and quiet: does
# nothing when a working kubectl is on PATH; otherwise installs Debian's `kubernetes-client` package (the only
# kubectl a package registry reachable here ships).
set -euo pipefail
if command -v kubectl >/dev/null 2>&1 && kubectl version --client >/dev/null 2>&1; then
  exit 0
fi
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
echo "Installing kubernetes-client (kubectl) for the kubectl test..." >&2
as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >/dev/null
kubectl version --client >/dev/null 2>&1 || { echo "kubectl still missing after the install" >&2; exit 1; }
