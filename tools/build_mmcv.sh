#!/usr/bin/env bash
# Build mmcv 2.1.0 *with ops* from its sdist (no wheel on PyPI for torch 2.14) and install it.
#
# torch 2.14's headers refuse C++17, so the sdist's setup.py is switched to -std=c++20 before building
# (recipe: shared/reference/DEPENDENCIES.md). The built wheel is cached under .cache/wheels/ (override
# with MMCV_WHEEL_CACHE); later runs install from the cache in seconds instead of rebuilding (~12 min on
# an idle 2-core machine, over an hour on a busy one). The build tree is kept in .cache/mmcv-build/ until
# the wheel exists, so an interrupted build resumes with the objects it already compiled.
#
# Usage: tools/build_mmcv.sh [PYTHON]     (default: .venv-mm/bin/python; torch must already be installed)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PY="${1:-$ROOT/.venv-mm/bin/python}"
VERSION="2.1.0"
CACHE="${MMCV_WHEEL_CACHE:-$ROOT/.cache/wheels}"
BUILD="${MMCV_BUILD_DIR:-$ROOT/.cache/mmcv-build}"

if [[ ! -x "$PY" ]]; then
    echo "build_mmcv.sh: python interpreter '$PY' not found or not executable" >&2
    exit 2
fi
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"  # absolute: the build runs inside the source tree
if ! "$PY" -c "import torch" 2>/dev/null; then
    echo "build_mmcv.sh: '$PY' has no torch; install torch==2.14.1 torchvision==0.29.1 first" >&2
    exit 2
fi
mkdir -p "$CACHE"

find_wheel() { compgen -G "$CACHE/mmcv-$VERSION-*.whl" | head -n 1 || true; }

wheel="$(find_wheel)"
if [[ -z "$wheel" ]]; then
    src="$BUILD/mmcv-$VERSION"
    echo "build_mmcv.sh: no cached wheel in $CACHE; building mmcv $VERSION with ops in $src"
    "$PY" -m pip install -q "setuptools>=77.0.3,<81" wheel ninja
    if [[ ! -f "$src/.patched" ]]; then
        rm -rf "$BUILD" && mkdir -p "$BUILD"
        "$PY" -m pip download -q --no-deps --no-binary=:all: "mmcv==$VERSION" -d "$BUILD"
        tar -xzf "$BUILD/mmcv-$VERSION.tar.gz" -C "$BUILD"
        sed -i -e 's/-std=c++14/-std=c++20/g' -e 's/-std=c++17/-std=c++20/g' "$src/setup.py"
        if ! grep -q -- '-std=c++20' "$src/setup.py"; then
            echo "build_mmcv.sh: $src/setup.py has no -std=c++1x flag to patch; the recipe no longer fits" >&2
            exit 1
        fi
        touch "$src/.patched"
    fi
    rm -rf "$BUILD/dist"
    (cd "$src" && MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-2}" \
        "$PY" -m pip wheel --no-build-isolation --no-deps -w "$BUILD/dist" .)
    built="$(compgen -G "$BUILD/dist/mmcv-$VERSION-*.whl" | head -n 1)"
    name="$(basename "$built")"
    # Atomic publish into the cache: copy under a temporary name on the same filesystem, then rename.
    cp "$built" "$CACHE/.$name.tmp"
    mv -f "$CACHE/.$name.tmp" "$CACHE/$name"
    rm -rf "$BUILD"
    wheel="$CACHE/$name"
fi

echo "build_mmcv.sh: installing $wheel"
"$PY" -m pip install -q "$wheel"
"$PY" -c "import mmcv, mmcv.ops; from mmcv.ops import Voxelization; print('mmcv', mmcv.__version__, 'with ops')"
