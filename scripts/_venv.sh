# Sourced by scripts/serve and scripts/test: make ./.venv (Python 3.11+) with the project installed.
# $1: the pip extras to install ("" or "test"). Reinstalls only when pyproject.toml changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${LAMBDALITE_VENV:-$ROOT/.venv}"
PY="${PYTHON:-python3}"
extras="${1:-}"
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "Lambdalite needs Python 3.11 or newer as \`$PY\` (set PYTHON=/path/to/python3.11)." >&2
  exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
  echo "creating $VENV ..." >&2
  "$PY" -m venv "$VENV"
fi
project="$(sha256sum < "$ROOT/pyproject.toml" | cut -c1-16)"
want="$project-$extras"
stamp="$VENV/.lambdalite-installed"
have="$(cat "$stamp" 2>/dev/null || true)"
# An install with the test extras also serves `scripts/serve` (no reinstall when alternating).
if [ "$have" != "$want" ] && ! { [ -z "$extras" ] && [ "$have" = "$project-test" ]; }; then
  echo "installing lambdalite${extras:+[$extras]} into $VENV ..." >&2
  "$VENV/bin/python" -m pip install -q --upgrade pip >&2
  spec="$ROOT"
  [ -n "$extras" ] && spec="$ROOT[$extras]"
  "$VENV/bin/python" -m pip install -q -e "$spec" >&2
  echo "$want" > "$stamp"
fi
