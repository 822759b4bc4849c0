#!/bin/sh
# Build the noarch RPM with rpmbuild -bb from packaging/rpm/tlsmon.spec and a source tarball
# staged from the working tree; copy tlsmon-VERSION-1.noarch.rpm into OUTDIR (default: .).
#   usage: packaging/build-rpm.sh [OUTDIR]
# On Debian (apt-get install rpm) BuildRequires cannot be checked: --nodeps.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$(mkdir -p "${1:-.}" && cd "${1:-.}" && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/tlsmon-rpm.XXXXXX")
trap 'rm -rf "$work"' EXIT
src=$(sh "$here/stage-source.sh" "$work")
mkdir -p "$work/top/SOURCES"
tar -C "$work" -czf "$work/top/SOURCES/$(basename "$src").tar.gz" "$(basename "$src")"
nodeps=
[ -e /etc/debian_version ] && nodeps=--nodeps
env PATH=/usr/sbin:/usr/bin:/sbin:/bin rpmbuild -bb $nodeps --define "_topdir $work/top" "$here/rpm/tlsmon.spec"
cp "$work"/top/RPMS/noarch/tlsmon-*.noarch.rpm "$out"/
ls "$out"/tlsmon-*.noarch.rpm
