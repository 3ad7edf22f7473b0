#!/usr/bin/env bash
# Build flushscope's one-folder bundle, or put its launcher and icon where the desktop finds them.
#   packaging/build.sh bundle [--dist DIR]
#       PyInstaller bundle in DIR/flushscope (default dist/flushscope): run DIR/flushscope/flushscope.
#       Uses .venv (made if missing, with the "bundle" extra) and needs PortAudio on this machine
#       (libportaudio2), which goes into the bundle.
#   packaging/build.sh desktop [--prefix DIR] [--exec COMMAND]
#       The .desktop file and the icon into DIR/share/applications and DIR/share/icons/hicolor/scalable/apps
#       (default: ${XDG_DATA_HOME:-~/.local/share}). The launcher starts COMMAND (default: the bundle in
#       dist/flushscope when it is built, else the flushscope on PATH, e.g. from pipx or uv tool).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  echo "usage: packaging/build.sh bundle [--dist DIR] | desktop [--prefix DIR] [--exec COMMAND]" >&2
  exit 2
}

bundle() {
  local dist="$here/dist"
  while [ $# -gt 0 ]; do
    case "$1" in
      --dist) [ $# -ge 2 ] || usage; dist=$(realpath -m "$2"); shift 2 ;;
      *) usage ;;
    esac
  done
  cd "$here"
  local python=${PYTHON:-python3}
  [ -x .venv/bin/python ] || "$python" -m venv .venv
  if ! .venv/bin/python -c 'import PyInstaller, flushscope' 2>/dev/null; then
    .venv/bin/python -m pip install -q --disable-pip-version-check -e ".[bundle]" >&2
  fi
  # PyInstaller's work folder, gone afterwards however the build ends (global: the trap runs at exit).
  work_dir=$(mktemp -d)
  trap 'rm -rf "$work_dir"' EXIT
  .venv/bin/python -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath "$work_dir" packaging/flushscope.spec
  echo "$dist/flushscope/flushscope"
}

# The command as the Exec key takes it: quoted when it holds more than plain path characters. The few
# characters that would need escaping inside the quotes are refused instead.
exec_value() {
  case "$1" in
    *[\"\`\$\\%]*) echo "cannot write a launcher for a path with \", \`, \$, \\ or % in it: $1" >&2; exit 1 ;;
  esac
  if [[ "$1" =~ [^A-Za-z0-9/._+-] ]]; then printf '"%s"' "$1"; else printf '%s' "$1"; fi
}

desktop() {
  local data=${XDG_DATA_HOME:-$HOME/.local/share} command=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --prefix) [ $# -ge 2 ] || usage; data=$(realpath -m "$2")/share; shift 2 ;;
      --exec) [ $# -ge 2 ] || usage; command=$2; shift 2 ;;
      *) usage ;;
    esac
  done
  if [ -z "$command" ]; then
    if [ -x "$here/dist/flushscope/flushscope" ]; then
      command="$here/dist/flushscope/flushscope"
    elif command -v flushscope >/dev/null; then
      command=$(command -v flushscope)
    else
      echo "No flushscope to launch: build the bundle (packaging/build.sh bundle), install flushscope" \
        "(pipx install . or uv tool install .), or name it with --exec." >&2
      exit 1
    fi
  fi
  local exec_line
  exec_line=$(exec_value "$command")
  local apps="$data/applications" icons="$data/icons/hicolor/scalable/apps"
  mkdir -p "$apps" "$icons"
  install -m 644 "$here/resources/flushscope.svg" "$icons/flushscope.svg"
  # TryExec takes a plain path; Exec the quoted command and the file to open.
  local tmp
  tmp=$(mktemp)
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
      Exec=*) printf 'Exec=%s %%f\n' "$exec_line" ;;
      TryExec=*) printf 'TryExec=%s\n' "$command" ;;
      *) printf '%s\n' "$line" ;;
    esac
  done <"$here/resources/flushscope.desktop" >"$tmp"
  install -m 644 "$tmp" "$apps/flushscope.desktop"
  rm -f "$tmp"
  # Menus and icon themes read their caches; refresh them where the tools exist.
  if command -v update-desktop-database >/dev/null; then update-desktop-database -q "$apps" || true; fi
  if command -v gtk-update-icon-cache >/dev/null && [ -f "$data/icons/hicolor/index.theme" ]; then
    gtk-update-icon-cache -q -t "$data/icons/hicolor" || true
  fi
  echo "$apps/flushscope.desktop"
  echo "$icons/flushscope.svg"
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
  bundle) bundle "$@" ;;
  desktop) desktop "$@" ;;
  *) usage ;;
esac
