#!/bin/sh
# Makes sure the Debian packages named as arguments are installed: `make test` calls it with
# what its suites need (TEST_DEBIAN_PACKAGES in the Makefile). Missing ones are installed with
# apt-get when running as root; otherwise it stops at once with the one command to run.
set -eu

missing=""
for package in "$@"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [ "$status" = "install ok installed" ] || missing="$missing $package"
done
missing=${missing# }
[ -z "$missing" ] && exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing Debian packages the tests need: $missing"
  export DEBIAN_FRONTEND=noninteractive
  # Others may be running apt on this machine: wait for its lock rather than fail.
  apt-get -o DPkg::Lock::Timeout=300 update -qq
  # shellcheck disable=SC2086 # one word per package
  apt-get -o DPkg::Lock::Timeout=300 install -y -qq $missing >/dev/null
  exit 0
fi

if command -v apt-get >/dev/null 2>&1; then
  echo "make test needs these Debian packages: run  sudo apt-get install -y $missing" >&2
else
  echo "make test needs these Debian packages, or their equivalents: $missing (no apt-get here: install them with this system's package manager)" >&2
fi
exit 1
