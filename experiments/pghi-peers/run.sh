#!/usr/bin/env bash
# Our PGHI vs the peers, one run. From the project root:
#   experiments/pghi-peers/run.sh [run.py options, e.g. --clips 3 --repeats 1]
# The peers go into experiments/pghi-peers/.venv (gitignored), never into the
# project's venv. PYTHON: the project's interpreter (default .venv/bin/python).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-$root/.venv/bin/python}"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -c 'import sys; print(sys.base_prefix)' >/dev/null
  "$(PYTHONPATH= "$python" -c 'import sys, os; print(os.path.join(sys.base_prefix, "bin", "python3"))')" -m venv "$venv"
  "$venv/bin/pip" install -q pghipy==0.1.1
  # tifresi 0.1.4 needs ltfatpy, which builds only where FFTW is installed.
  "$venv/bin/pip" install -q tifresi==0.1.4 || echo "tifresi 0.1.4 did not install (see README): compared with pghipy only" >&2
fi
cd "$root"
PYTHONPATH="$root" OMP_NUM_THREADS=1 exec "$python" "$here/run.py" --peer-python "$venv/bin/python" "$@"
