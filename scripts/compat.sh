#!/usr/bin/env bash
# jsii-diff against the last release: the version of the newest `v*` git tag, fetched from npm.
# Before the first release (no tag) there is nothing to compare with; that is reported, not an error.
# A tag whose version is not on npm yet (release workflow still publishing) is an error.
set -euo pipefail
cd "$(dirname "$0")/.."
name="$(node -p 'require("./package.json").name')"
tag="$(git describe --tags --match 'v[0-9]*' --abbrev=0 2>/dev/null || true)"
if [ -z "$tag" ]; then
  echo "compat: no release tag (v*) yet; nothing to compare the API with" >&2
  exit 0
fi
version="${tag#v}"
echo "compat: jsii-diff against ${name}@${version} (tag ${tag})" >&2
ignore=()
[ -f .compatignore ] && ignore=(--ignore-file .compatignore)
exec jsii-diff "npm:${name}@${version}" -k "${ignore[@]}"
