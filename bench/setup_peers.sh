#!/usr/bin/env bash
# Create one virtualenv per peer Q-score implementation under bench/.peers/, from PyPI only.
#
#   bash bench/setup_peers.sh [jqscore] [cctbx]     (default: both)
#
# A peer whose venv already imports is left alone. Exit status is the number of peers that
# could not be installed; bench_score.py skips those with a message.
set -u

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
peers_dir="${here}/.peers"
python="${PYTHON:-python3.11}"
command -v "$python" >/dev/null 2>&1 || python=python3
mkdir -p "$peers_dir"

peers=("$@")
[ ${#peers[@]} -eq 0 ] && peers=(jqscore cctbx)

failed=0
for peer in "${peers[@]}"; do
    venv="${peers_dir}/${peer}"
    case "$peer" in
        jqscore)
            probe="import jqscore"
            packages=("jqscore==0.2.0")
            ;;
        cctbx)
            probe="import cctbx; from cctbx.programs import qscore"
            packages=("cctbx-base==2025.11" "numpy<2" "pandas==1.5.3" "scipy")
            ;;
        *)
            echo "setup_peers: unknown peer '${peer}' (known: jqscore, cctbx)" >&2
            failed=$((failed + 1))
            continue
            ;;
    esac
    if [ -x "${venv}/bin/python" ] && "${venv}/bin/python" -c "$probe" >/dev/null 2>&1; then
        echo "setup_peers: ${peer} ready in ${venv}"
        continue
    fi
    echo "setup_peers: installing ${packages[*]} into ${venv}"
    rm -rf "$venv"
    if "$python" -m venv "$venv" \
        && "${venv}/bin/pip" install --quiet --upgrade pip \
        && "${venv}/bin/pip" install --quiet "${packages[@]}" \
        && "${venv}/bin/python" -c "$probe"; then
        echo "setup_peers: ${peer} installed"
    else
        echo "setup_peers: ${peer} could not be installed from PyPI" >&2
        failed=$((failed + 1))
    fi
done
exit "$failed"
