#!/usr/bin/env bash
# Build the SAM stack for this machine's CPU into .aws-sam/ without Docker, record the architecture it
# built, and print the artifact's unzipped sizes.
#
#   scripts/sam-build.sh              sam validate --lint, sam build --cached, record (Architecture=host)
#   scripts/sam-build.sh --if-stale   the same, unless .aws-sam/build was built from exactly these inputs
#   scripts/sam-build.sh --sizes      only print the sizes of the existing build
#
# - SAM CLI lives in its own virtual environment, .sam-venv/ (it pins boto3/pydantic versions that would
#   downgrade the test environment's). Created on first use; SAM_CLI_SPEC picks the version.
# - SAM's Python builder needs `python3.12` (the function's runtime) on PATH: the first working one of
#   `python3.12` on PATH, $PYENV_ROOT|/root/.pyenv/versions/3.12*/bin, `pyenv`'s 3.12 versions. It must
#   have pip. It gets a private bin directory put first on PATH, so nothing else is shadowed.
# - Architecture: the build machine's (x86_64 or arm64); ARCH=arm64|x86_64 builds for the other one,
#   which needs that CPU's libfribidi (the Debian package once the architecture is enabled in apt, see
#   layers/README.md). After the build, scripts/sam_arch.py checks that every shared object packed is
#   for ARCH, pins the built template's Architecture parameter to it and records it in
#   .aws-sam/versa-architecture: `make deploy` (scripts/sam-deploy.sh) deploys exactly that.
# - Nothing here talks to AWS: dummy credentials, no instance metadata, SAM telemetry off.
# - Cached builds: SAM's cache keys each layer on its ContentUri only, so a change to
#   layers/versa/Makefile (ContentUri is shared/), to the interpreter or to SAM itself would be served
#   from a stale cache; this script then drops SAM's cache first (.aws-sam/versa-cache-key).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

host_arch() {
  case "$(uname -m)" in
    x86_64|amd64) echo x86_64 ;;
    aarch64|arm64) echo arm64 ;;
    *) echo "unsupported-$(uname -m)" ;;
  esac
}
ARCH="${ARCH:-$(host_arch)}"
SAM_VENV="${SAM_VENV:-$ROOT/.sam-venv}"
SAM_CLI_SPEC="${SAM_CLI_SPEC:-aws-sam-cli>=1.130,<2}"
BUILD_DIR=".aws-sam"
MODE="build"

for arg in "$@"; do
  case "$arg" in
    --if-stale) MODE="if-stale" ;;
    --sizes) MODE="sizes" ;;
    -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "sam-build: unknown argument $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { echo "sam-build: $*" >&2; }

case "$ARCH" in
  x86_64|arm64) ;;
  *) say "ARCH=$ARCH: Lambda runs x86_64 or arm64; set ARCH=x86_64 or ARCH=arm64"; exit 2 ;;
esac

# ------------------------------------------------------------------------------------------ sizes

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }

print_sizes() {
  local build="$BUILD_DIR/build" total=0 size name
  if [[ ! -d "$build" ]]; then
    say "no build in $build"
    return 1
  fi
  printf '%-16s %14s %10s\n' "artifact" "bytes" "MB"
  for dir in "$build"/*Function "$build"/*Layer; do
    [[ -d "$dir" ]] || continue
    name="$(basename "$dir")"
    size="$(du -sb "$dir" | cut -f1)"
    total=$((total + size))
    printf '%-16s %14d %10s\n' "$name" "$size" "$(mb "$size")"
  done
  printf '%-16s %14d %10s   (Lambda limit: 250 MB unzipped, function + layers)\n' \
    "total" "$total" "$(mb "$total")"
}

if [[ "$MODE" == "sizes" ]]; then
  print_sizes
  exit $?
fi

# ------------------------------------------------------------------------------------ python3.12

# A python3.12 that runs and has pip (SAM's builder runs `python3.12 -m pip`); prints its real path.
usable() {
  local exe="$1"
  [[ -n "$exe" && -x "$exe" ]] || return 1
  "$exe" -c 'import sys, pip; assert sys.version_info[:2] == (3, 12); print(sys.executable)' 2>/dev/null
}

find_python312() {
  local candidate found root version
  if candidate="$(command -v python3.12 2>/dev/null)" && found="$(usable "$candidate")"; then
    echo "$found"; return 0
  fi
  for root in "${PYENV_ROOT:-}" "$HOME/.pyenv" /root/.pyenv; do
    [[ -n "$root" && -d "$root/versions" ]] || continue
    # newest 3.12.x first
    for candidate in $(ls -d "$root"/versions/3.12* 2>/dev/null | sort -rV); do
      if found="$(usable "$candidate/bin/python3.12")"; then echo "$found"; return 0; fi
    done
  done
  if command -v pyenv >/dev/null 2>&1; then
    root="$(pyenv root)"
    for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.12(\.|$)' | sort -rV); do
      if found="$(usable "$root/versions/$version/bin/python3.12")"; then echo "$found"; return 0; fi
    done
  fi
  return 1
}

if ! PY312="$(find_python312)"; then
  say "no usable Python 3.12 (with pip) found: not \`python3.12\` on PATH, not in \$PYENV_ROOT or"
  say "/root/.pyenv/versions/3.12*, not among \`pyenv versions\`. SAM builds the deps layer with the"
  say "function's runtime, python3.12: install it (e.g. \`pyenv install 3.12\`, or your distribution's"
  say "python3.12 and python3.12-venv/pip) and run this again."
  exit 1
fi

# ---------------------------------------------------------------------------------------- SAM CLI

SAM="$SAM_VENV/bin/sam"
SAM_STAMP="$SAM_VENV/.versa-installed"
if [[ ! -x "$SAM" || ! -f "$SAM_STAMP" || "$(cat "$SAM_STAMP")" != "$SAM_CLI_SPEC" ]]; then
  say "installing $SAM_CLI_SPEC into ${SAM_VENV#"$ROOT"/}"
  [[ -x "$SAM_VENV/bin/python" ]] || "${SAM_VENV_PYTHON:-python3}" -m venv "$SAM_VENV"
  "$SAM_VENV/bin/python" -m pip install -q --disable-pip-version-check "$SAM_CLI_SPEC"
  echo "$SAM_CLI_SPEC" >"$SAM_STAMP"
fi

# --------------------------------------------------------------------------------- environment

# The private bin dir: python3.12 only, first on PATH. Two levels below the venv: a pyvenv.cfg next to
# the link or one level up would make Python take the SAM venv for its own environment.
PYBIN="$SAM_VENV/python3.12/bin"
mkdir -p "$PYBIN"
ln -sfn "$PY312" "$PYBIN/python3.12"
export PATH="$PYBIN:$PATH"

# SAM never needs AWS here: make sure it cannot reach an account or the metadata service.
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN
export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
export AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}" AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export SAM_CLI_TELEMETRY=0

SAM_VERSION="$("$SAM" --version)"
PY_VERSION="$("$PY312" -c 'import sys; print(sys.version.split()[0])')"

# Digest of files (sorted paths and contents), skipping byte code.
digest_files() {
  find "$@" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 2>/dev/null \
    | LC_ALL=C sort -z | xargs -0 -r sha256sum | sha256sum | cut -d' ' -f1
}

# What SAM's cache does not see; a change drops the cache.
CACHE_KEY="$(printf '%s\n' "$ARCH" "$PY312 $PY_VERSION" "$SAM_VERSION" \
  "$(digest_files layers/versa/Makefile scripts/sam-build.sh scripts/sam_arch.py)" | sha256sum | cut -d' ' -f1)"
# Everything the build reads from this tree (system fonts and libfribidi aside).
INPUTS_KEY="$(printf '%s\n' "$CACHE_KEY" \
  "$(digest_files template.yaml samconfig.toml layers functions shared/versa)" \
  | sha256sum | cut -d' ' -f1)"

# Up to date: built by this script from these inputs, and not rebuilt by hand since (template.yaml).
if [[ "$MODE" == "if-stale" && -d "$BUILD_DIR/build/RenderFunction" \
      && "$(cat "$BUILD_DIR/versa-inputs-key" 2>/dev/null)" == "$INPUTS_KEY" \
      && ! "$BUILD_DIR/build/template.yaml" -nt "$BUILD_DIR/versa-inputs-key" \
      && -f "$BUILD_DIR/versa-architecture" ]]; then
  say "up to date (inputs unchanged since the last build)"
  print_sizes
  exit 0
fi

if [[ "$(cat "$BUILD_DIR/versa-cache-key" 2>/dev/null)" != "$CACHE_KEY" ]]; then
  [[ -d "$BUILD_DIR/cache" ]] && say "dropping SAM's build cache (layer Makefile, interpreter or SAM changed)"
  rm -rf "$BUILD_DIR/cache" "$BUILD_DIR/deps" "$BUILD_DIR/build.toml"
fi
rm -f "$BUILD_DIR/versa-inputs-key" "$BUILD_DIR/versa-architecture"

# ------------------------------------------------------------------------------------------ build

say "$SAM_VERSION; python3.12 = $PY312 ($PY_VERSION); Architecture=$ARCH"
started=$SECONDS
"$SAM" validate --lint
"$SAM" build --cached --parameter-overrides "Architecture=$ARCH" --build-dir "$BUILD_DIR/build" \
  --cache-dir "$BUILD_DIR/cache"
mkdir -p "$BUILD_DIR"
# What the build packed, not what was asked: every shared object must be for $ARCH. Pins the built
# template's Architecture to it and writes $BUILD_DIR/versa-architecture (SAM's Python has PyYAML).
"$SAM_VENV/bin/python" scripts/sam_arch.py record "$BUILD_DIR" "$ARCH"
echo "$CACHE_KEY" >"$BUILD_DIR/versa-cache-key"
echo "$INPUTS_KEY" >"$BUILD_DIR/versa-inputs-key"
echo "$PY312" >"$BUILD_DIR/versa-python"
say "built in $((SECONDS - started)) s"
print_sizes
