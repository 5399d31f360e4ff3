#!/usr/bin/env bash
# The Safe team's published contracts, for tests/safe.rs: the npm packages'
# build artifacts only (no dependencies, nothing run), fetched once into a cache
# and checked against the digests below. Prints the directory, which holds
# 1.1.1/, 1.3.0/ and 1.4.1/ (each an unpacked package).
set -euo pipefail
dir="${POR_SAFE_CONTRACTS:-${XDG_CACHE_HOME:-$HOME/.cache}/por-tools/safe-contracts}"
# package spec, version directory, sha256 of the tarball the registry served when this was written
packages=(
  "@gnosis.pm/safe-contracts@1.1.1 1.1.1 146520263e64f87a3fdfa61ad04d917185bb6918814c89febd8a44a344984714"
  "@gnosis.pm/safe-contracts@1.3.0 1.3.0 ee19525b00dbca9e62668551a5955ea492025a5d6556afc42270f43a6bd40525"
  "@safe-global/safe-contracts@1.4.1 1.4.1 8803f7cf26e2c58300b8136342faa7b8bce59436e300f52115fa25b095e0bf79"
)
if [ ! -f "$dir/complete" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for p in "${packages[@]}"; do
    read -r spec version digest <<<"$p"
    tgz=$(cd "$tmp" && npm pack --silent "$spec" 2>/dev/null | tail -n 1)
    got=$(sha256sum "$tmp/$tgz" | cut -d' ' -f1)
    if [ "$got" != "$digest" ]; then
      echo "safe-contracts.sh: $spec: sha256 $got, expected $digest" >&2
      exit 1
    fi
    mkdir -p "$tmp/out/$version"
    tar xzf "$tmp/$tgz" -C "$tmp/out/$version"
  done
  mkdir -p "$dir"
  cp -r "$tmp/out/." "$dir/"
  touch "$dir/complete"
fi
echo "$dir"
