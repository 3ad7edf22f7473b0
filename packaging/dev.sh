#!/usr/bin/env bash
# Set up a development environment on a Debian/Ubuntu machine and run flushscope or its tests.
#   packaging/dev.sh run [flushscope args...]   launch the app (embedded emulator by default)
#   packaging/dev.sh test [pytest args...]      lint, type-check and run the whole test suite
# Installs what is missing: the Debian packages (as root or through sudo), a venv in .venv, the project.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$here"

# libportaudio2: sounddevice does not bundle PortAudio on Linux. The rest is what Qt's xcb and
# offscreen platforms load, and Xvfb for screenshots of a real window.
apt_packages=(libportaudio2 xvfb libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0 libxkbcommon-x11-0
  libxcb-shape0 libglib2.0-0 libgl1 libegl1 libxkbcommon0 libfontconfig1 libdbus-1-3 python3-venv)

ensure_system_packages() {
  command -v dpkg-query >/dev/null || return 0  # not Debian: the user knows their system
  local missing=()
  for p in "${apt_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local line="apt-get update && apt-get install -y --no-install-recommends ${missing[*]}"
  if [ "$(id -u)" -eq 0 ]; then
    echo "Installing system packages: ${missing[*]}" >&2
    DEBIAN_FRONTEND=noninteractive bash -c "$line" </dev/null >&2
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    echo "Installing system packages with sudo: ${missing[*]}" >&2
    sudo DEBIAN_FRONTEND=noninteractive bash -c "$line" </dev/null >&2
  else
    echo "flushscope needs these Debian packages. Install them, then run this again:" >&2
    echo "  sudo $line" >&2
    exit 1
  fi
}

ensure_venv() {
  local extra=$1
  local python=${PYTHON:-python3}
  if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "flushscope needs Python 3.11 or newer ($python is $("$python" -V 2>&1))." >&2
    exit 1
  fi
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  # Reinstall only when the project's requirements changed since the last install.
  local stamp=".venv/.flushscope-$extra-$(sha1sum pyproject.toml | cut -c1-12)"
  if [ ! -f "$stamp" ]; then
    .venv/bin/python -m pip install -q --disable-pip-version-check --upgrade pip >&2
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".$extra" >&2
    rm -f .venv/.flushscope-"$extra"-*
    touch "$stamp"
  fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  run)
    ensure_system_packages
    ensure_venv ""
    exec .venv/bin/flushscope "$@"
    ;;
  test)
    ensure_system_packages
    ensure_venv "[test]"
    export QT_QPA_PLATFORM=offscreen
    .venv/bin/ruff check app tests bench
    # The whole package is typed; protocol/ and core/ (the Qt-free core) above all must stay so.
    .venv/bin/mypy --strict app/flushscope
    exec .venv/bin/python -m pytest "$@"
    ;;
  *)
    echo "usage: packaging/dev.sh run [flushscope args...] | test [pytest args...]" >&2
    exit 2
    ;;
esac
