#!/usr/bin/env bash
# The test command (README: `npm test`). Builds what the tests run (the bundle and both standalone
# executables), runs every tap test, and ends with the line CI reads: "N passed, N failed".
# Pass test files to run only those: `npm test -- test/unit/sanitize.test.ts`.
set -uo pipefail
cd "$(dirname "$0")/.."

if [ -z "${PORTQRY_SKIP_BUILD:-}" ]; then
  npm run --silent build || { echo "build failed"; echo "0 passed, 1 failed"; exit 1; }
fi

files=("$@")
if [ ${#files[@]} -eq 0 ]; then
  mapfile -t files < <(find test -name '*.test.ts' | sort)
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# The type check counts as one test: a type error fails the run like a failing assertion.
typecheck_failed=0
if npx tsc --noEmit -p . >"$log" 2>&1; then echo "# typecheck: ok"; else cat "$log"; echo "# typecheck: FAILED"; typecheck_failed=1; fi

npx tap --reporter=tap "${files[@]}" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}
[ "$typecheck_failed" = 0 ] || rc=1

# tap's TAP stream ends each top-level file with "ok N - file" / "not ok N - file"; count the assertions
# inside instead, which is what "passed" means to a reader.
node -e '
  // Leaf assertions are counted; a subtest summary line ends in "# time=…" and is not one.
  // A file that failed without a failing assertion (a crash, a timeout) counts as one failure.
  const lines = require("fs").readFileSync(process.argv[1], "utf8").split("\n");
  let pass = 0, fail = 0, skip = 0, failsInFile = 0;
  if (process.argv[2] === "1") fail++; else pass++; // the type check
  for (const l of lines) {
    const top = /^(not ok|ok) \d+/.exec(l);
    if (top) { if (top[1] === "not ok" && failsInFile === 0) fail++; failsInFile = 0; continue; }
    const m = /^\s+(not ok|ok) \d+/.exec(l);
    if (!m || /# time=[\d.]+m?s\s*$/.test(l)) continue;
    if (/# (SKIP|TODO)/i.test(l)) { skip++; continue; }
    if (m[1] === "ok") pass++; else { fail++; failsInFile++; }
  }
  console.log(`${pass} passed, ${fail} failed` + (skip ? `, ${skip} skipped` : ""));
' "$log" "$typecheck_failed"
exit $rc
