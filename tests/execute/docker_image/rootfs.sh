#!/usr/bin/env bash
# Root filesystem of swepipe's stand-in for a SWE-bench harness image, written to $1.
# The image tag is a hash of this file: change it and the next test run builds a new image.
# Debian bookworm (minbase) with python3, git, patch and pytest from Debian packages, and the
# harness images' activation shape: `source /opt/miniconda3/bin/activate && conda activate testbed`
# puts /opt/miniconda3/envs/testbed/bin (where `python` is) first on PATH.
set -euo pipefail
root=$1
debootstrap --variant=minbase --include=python3,python3-pytest,git,patch \
    bookworm "$root" "${SWEPIPE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"

env=$root/opt/miniconda3/envs/testbed/bin
mkdir -p "$root/opt/miniconda3/bin" "$env"
ln -s /usr/bin/python3 "$env/python"
cat > "$root/opt/miniconda3/bin/activate" <<'ACTIVATE'
# Stand-in for miniconda's bin/activate: defines `conda activate ENV`; `source activate ENV`
# activates ENV directly, as conda's does.
conda() {
    if [ "${1:-}" = activate ] && [ -d "/opt/miniconda3/envs/${2:-}" ]; then
        export CONDA_DEFAULT_ENV="$2" CONDA_PREFIX="/opt/miniconda3/envs/$2"
        export PATH="$CONDA_PREFIX/bin:$PATH"
    else
        echo "conda (stand-in): only 'conda activate ENV' with ENV in /opt/miniconda3/envs" >&2
        return 1
    fi
}
if [ -n "${1:-}" ]; then conda activate "$1"; fi
ACTIVATE

# what the image never needs: package caches and lists, documentation
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
    "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
