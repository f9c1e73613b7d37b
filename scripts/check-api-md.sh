#!/usr/bin/env bash
# Fails when the committed API.md differs from what jsii-docgen generates from the compiled assembly.
set -euo pipefail
npx --no-install jsii-docgen -o API.md
if git rev-parse --is-inside-work-tree >/dev/null 2>&1 && ! git diff --quiet -- API.md; then
  echo "API.md is stale: run 'npx projen docgen' and commit API.md" >&2
  git --no-pager diff --stat -- API.md >&2
  exit 1
fi
