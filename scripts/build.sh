#!/usr/bin/env bash
# Build: dist/main.cjs (the bundle). The standalone executables are added by the build issue.
set -euo pipefail
cd "$(dirname "$0")/.."
node scripts/bundle.mjs
