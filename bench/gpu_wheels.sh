#!/usr/bin/env bash
# Download the wheels a GPU machine without a package registry lacks, for bench/gpu_profiles.py.
#
#     bash bench/gpu_wheels.sh            # -> gpu_wheels/*.whl (git-ignored), then carry gpu_wheels
#
# The GPU image has Python 3.12, JAX, NumPy, SciPy, pandas, scikit-learn, OpenCV, Pillow,
# matplotlib, seaborn, tqdm, h5py, rich, absl-py and ml-dtypes, but no Keras: Keras and the two
# of its needs that the image lacks (namex, optree) travel as wheels, pinned to the versions the
# test suite runs here. On the GPU machine, install them with
#     python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site gpu_wheels/*.whl
#     export PYTHONPATH=/tmp/site:$PWD
# (bench/gpu_profiles.py fails at once, naming the module, if anything is still missing.)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEST=gpu_wheels
WHEELS=("keras==3.15.1" "namex==0.1.0" "optree==0.20.0")
mkdir -p "$DEST"
"$PY" -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$DEST" "${WHEELS[@]}"
ls -l "$DEST"
du -sh "$DEST"
