#!/usr/bin/env bash
# `npm run sign [-- DIR]`: Authenticode signatures for what ships on Windows, with Debian's osslsigncode:
#   DIR/portqry-ts.exe, any DIR/*.node, and the PowerShell module DIR/PortQryTs/*.ps1 .psm1 .psd1 .ps1xml
# (DIR defaults to dist). The certificate comes from the environment:
#   PORTQRY_SIGN_PFX             a PKCS#12 file with the code-signing certificate and its key
#   PORTQRY_SIGN_PASSWORD        its password (given to osslsigncode through a pipe, never on a command line)
#   PORTQRY_SIGN_TIMESTAMP_URL   optional RFC 3161 timestamp server (keeps signatures valid after expiry)
# In dist/, koffi's native module travels inside the exe (a SEA asset, extracted at run time); it is
# signed first and the exe rebuilt around the signed copy, so the file Windows loads from the extraction
# folder carries our signature too (PORTQRY_SIGN_EMBEDDED_KOFFI=0 skips that rebuild).
# Without a certificate nothing is signed: one line says so, exit 0.
set -euo pipefail
cd "$(dirname "$0")/.."

DIR=${1:-dist}
if [ -z "${PORTQRY_SIGN_PFX:-}" ]; then
  echo "sign: unsigned (PORTQRY_SIGN_PFX is not set; $DIR/portqry-ts.exe and the PowerShell module stay unsigned)"
  exit 0
fi
if [ ! -r "$PORTQRY_SIGN_PFX" ]; then
  echo "sign: cannot read the certificate PORTQRY_SIGN_PFX=$PORTQRY_SIGN_PFX" >&2
  exit 66
fi
command -v osslsigncode >/dev/null || { echo "sign: osslsigncode is not installed (apt-get install osslsigncode)" >&2; exit 69; }

# sign_file <file>: signs in place (through a temp file in the same folder); an existing signature is replaced.
sign_file() {
  local f=$1 tmp="$1.signing"
  local args=(sign -pkcs12 "$PORTQRY_SIGN_PFX" -readpass /dev/stdin -h sha256 -n portqry-ts)
  [ -n "${PORTQRY_SIGN_TIMESTAMP_URL:-}" ] && args+=(-ts "$PORTQRY_SIGN_TIMESTAMP_URL")
  rm -f "$tmp"
  case $f in
    *.exe | *.node | *.dll)
      # A PE that is signed already (e.g. by an earlier run) is signed afresh, not nested.
      if osslsigncode extract-signature -in "$f" -out /dev/null >/dev/null 2>&1; then
        osslsigncode remove-signature -in "$f" -out "$tmp.unsigned" >/dev/null
        mv "$tmp.unsigned" "$f"
      fi
      ;;
  esac
  local log
  if ! log=$(printf '%s' "${PORTQRY_SIGN_PASSWORD:-}" | osslsigncode "${args[@]}" -in "$f" -out "$tmp" 2>&1); then
    rm -f "$tmp"
    echo "sign: signing $f failed: $(grep -v '^Succeeded' <<<"$log" | head -n 1)" >&2
    exit 1
  fi
  chmod --reference="$f" "$tmp"
  mv "$tmp" "$f"
  echo "sign: signed $f"
}

if [ "$DIR" = dist ] && [ "${PORTQRY_SIGN_EMBEDDED_KOFFI:-1}" != 0 ] && [ -f dist/portqry-ts.exe ]; then
  koffi_src=$(ls .toolchain/koffi-win32-x64-*/win32_x64/koffi.node 2>/dev/null | head -n 1)
  if [ -n "$koffi_src" ]; then
    mkdir -p build
    install -m 0644 "$koffi_src" build/koffi-win32-x64.signed.node
    sign_file build/koffi-win32-x64.signed.node
    PORTQRY_BUILD_TARGETS=win PORTQRY_WIN_KOFFI_NODE=build/koffi-win32-x64.signed.node bash scripts/build.sh
  fi
fi

shopt -s nullglob
files=("$DIR/portqry-ts.exe" "$DIR"/*.node "$DIR"/PortQryTs/*.ps1 "$DIR"/PortQryTs/*.psm1 "$DIR"/PortQryTs/*.psd1 "$DIR"/PortQryTs/*.ps1xml)
count=0
for f in "${files[@]}"; do
  [ -f "$f" ] || continue
  sign_file "$f"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || { echo "sign: nothing to sign in $DIR (run npm run build first)" >&2; exit 66; }
echo "sign: $count files signed with $(basename "$PORTQRY_SIGN_PFX")${PORTQRY_SIGN_TIMESTAMP_URL:+, timestamped by $PORTQRY_SIGN_TIMESTAMP_URL}"
