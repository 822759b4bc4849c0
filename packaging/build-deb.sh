#!/bin/sh
# Build the Debian package with dpkg-buildpackage -us -uc -b from a staged copy of the tree
# (packaging/debian becomes ./debian there; the working tree is not touched) and copy
# tlsmon_VERSION_all.deb into OUTDIR (default: the current directory).
#   usage: packaging/build-deb.sh [OUTDIR]
# Needs: dpkg-dev debhelper dh-python pybuild-plugin-pyproject python3-all python3-setuptools
#        python3-wheel python3-cryptography python3-nagiosplugin python3-requests
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsmon-deb.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$(sh "$here/stage-source.sh" "$work")
cp -r "$src/packaging/debian" "$src/debian"
chmod +x "$src/debian/rules"
# pybuild runs python3 from PATH: Debian's own, not a pyenv shim or a virtualenv
cd "$src" && env PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg-buildpackage -us -uc -b
cp "$work"/tlsmon_*_all.deb "$out"/
ls "$out"/tlsmon_*_all.deb
