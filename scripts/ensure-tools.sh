#!/usr/bin/env bash
# Installs the Debian packages the tests, demo and packaging use, when they are missing and we may.
# docker-registry: the real OCI registry the tests start on loopback. python3: the jsii kernel test's client.
# python3-build/twine: package:python.
set -euo pipefail
need=()
command -v docker-registry >/dev/null 2>&1 || need+=(docker-registry)
# /usr/bin/python3 (standard library only): the jsii kernel test's Python client (test/jsii-kernel).
[ -x /usr/bin/python3 ] || need+=(python3)
if [ "${ENSURE_PYTHON_TOOLS:-0}" = "1" ]; then
  /usr/bin/python3 -c 'import build, twine' >/dev/null 2>&1 || need+=(python3-build python3-setuptools python3-wheel twine)
fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "ensure-tools: installing ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
else
  echo "ensure-tools: missing ${need[*]}; install them (Debian: apt-get install ${need[*]})" >&2
  exit 1
fi
