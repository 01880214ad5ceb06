# Sourced by scripts/run and scripts/test: a virtual environment with Atende installed.
# Reinstalls only when pyproject.toml changed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  echo "atende: creating .venv with $($PYTHON --version)"
  "$PYTHON" -m venv .venv
fi
# shellcheck disable=SC1091
. .venv/bin/activate
stamp=".venv/.atende-installed-$(sha1sum pyproject.toml | cut -c1-12)"
if [ ! -f "$stamp" ]; then
  echo "atende: installing dependencies"
  python -m pip install -q --upgrade pip
  python -m pip install -q -e ".[test]"
  rm -f .venv/.atende-installed-* && touch "$stamp"
fi
export FLASK_APP=wsgi
