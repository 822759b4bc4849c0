#!/bin/sh
# Copy what a package is built from (setup.cfg, pyproject.toml, README.md, lib/, plugins/,
# packaging/) into DIR/tlsmon-VERSION, without caches and build leftovers, and print that path.
#   usage: packaging/stage-source.sh DIR
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' "$root/lib/tlsmon/__init__.py")
[ -n "$version" ] || { echo "$0: no __version__ in lib/tlsmon/__init__.py" >&2; exit 1; }
src="$1/tlsmon-$version"
rm -rf "$src"
mkdir -p "$src"
tar -C "$root" --exclude=__pycache__ --exclude='*.pyc' --exclude='*.egg-info' -cf - \
    setup.cfg pyproject.toml README.md lib plugins packaging | tar -C "$src" -xf -
echo "$src"
