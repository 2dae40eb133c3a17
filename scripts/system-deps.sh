#!/usr/bin/env bash
# Install the Debian packages Versa needs, only those missing. `--test` adds what the tests need.
#   fonts-dejavu-core fonts-noto-core fonts-noto-cjk: the default font families Versa provides
#   libfribidi0: loaded at run time by Pillow's raqm; without it complex scripts render wrong silently
#   chromium (tests): headless browser for the preview studio and page tests
set -euo pipefail
packages=(fonts-dejavu-core fonts-noto-core fonts-noto-cjk libfribidi0)
if [[ "${1:-}" == "--test" ]]; then
  packages+=(chromium)
fi
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "installing Debian packages: ${missing[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
