#!/usr/bin/env bash
# Deploy the build that `make build` made, for the architecture it was built for.
#
#   scripts/sam-deploy.sh [sam deploy options...]     e.g. --guided, --config-env staging,
#                                                     --parameter-overrides AlarmEmail=ops@example.com
#
# - Refuses (before anything is uploaded) when there is no build record (.aws-sam/versa-architecture,
#   written by scripts/sam-build.sh), when the build changed since it was recorded, or when
#   samconfig.toml or --parameter-overrides ask for an Architecture other than the one built: a stack
#   whose layers are for another CPU fails every request at import, and the CDN hides it behind the
#   fallback images. The checks are in scripts/sam_arch.py.
# - Otherwise runs `sam deploy` with the samconfig's parameter overrides, the command line's on top, and
#   Architecture set to the built one. It uses your AWS credentials and region, as `sam deploy` does.
# - SAM CLI: $SAM if set, else .sam-venv/bin/sam (scripts/sam-build.sh installs it), else `sam` on PATH.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

case "${1:-}" in
  -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

SAM_VENV="${SAM_VENV:-$ROOT/.sam-venv}"
if [[ -z "${SAM:-}" ]]; then
  if [[ -x "$SAM_VENV/bin/sam" ]]; then
    SAM="$SAM_VENV/bin/sam"
  elif ! SAM="$(command -v sam)"; then
    echo "sam-deploy: no SAM CLI: run \`make build\` first (it installs one into .sam-venv/)" >&2
    exit 1
  fi
fi
PYTHON="${PYTHON:-python3}"
export SAM_CLI_TELEMETRY="${SAM_CLI_TELEMETRY:-0}"

exec "$PYTHON" scripts/sam_arch.py deploy .aws-sam "$SAM" "$@"
