#!/usr/bin/env bash
# Packages one jsii target for release. The release workflow (GitHub, where PyPI and Maven Central are
# reachable) gets jsii-pacmak's standard build; a machine that reaches only the npm registry and Debian
# packages gets what can be built offline:
#   python: code from jsii-pacmak, wheel + sdist with Debian's python3-build, `twine check`;
#   java:   sources and pom.xml only (dist/java-src): Maven plugins and dependencies are unreachable.
# Set PACKAGE_OFFLINE=1 / 0 to force a path; the default probes the registry (5 s timeout).
set -euo pipefail
target="${1:?usage: package-target.sh python|java}"
cd "$(dirname "$0")/.."

reachable() { # URL
  node -e '
    const https = require("https");
    const req = https.get(process.argv[1], { timeout: 5000 }, (res) => { res.resume(); process.exit(res.statusCode < 500 ? 0 : 1); });
    req.on("timeout", () => { req.destroy(); process.exit(1); });
    req.on("error", () => process.exit(1));
  ' "$1"
}

offline="${PACKAGE_OFFLINE:-}"
if [ -z "$offline" ]; then
  case "$target" in
    python) url=https://pypi.org/simple/setuptools/ ;;
    java) url=https://repo.maven.apache.org/maven2/ ;;
    *) echo "package-target: unknown target $target" >&2; exit 2 ;;
  esac
  if reachable "$url" && { [ "$target" != java ] || command -v mvn >/dev/null 2>&1; }; then offline=0; else offline=1; fi
fi

if [ "$offline" = "0" ]; then
  echo "package-target: $target: standard jsii-pacmak build" >&2
  exec jsii-pacmak -v --target "$target"
fi

case "$target" in
  python)
    echo "package-target: python: offline build (Debian python3-build, twine check)" >&2
    ENSURE_PYTHON_TOOLS=1 bash scripts/ensure-tools.sh
    rm -rf dist/python dist/.python-src
    jsii-pacmak -v --target python --code-only -o dist/.python-src
    /usr/bin/python3 -m build --no-isolation --skip-dependency-check --outdir dist/python dist/.python-src/python
    /usr/bin/python3 -m twine check dist/python/*
    rm -rf dist/.python-src
    ;;
  java)
    echo "package-target: java: offline, sources and pom.xml only (dist/java-src); Maven Central is unreachable" >&2
    rm -rf dist/java-src
    jsii-pacmak -v --target java --code-only -o dist/java-src
    ;;
esac
