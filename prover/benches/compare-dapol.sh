#!/usr/bin/env bash
# Side by side with the dapol CLI (the DAPOL+ reference implementation, `cargo install dapol`):
# the same 65,536 customers with one asset (BTC, in satoshi) at height 32. Prints, for each
# tool: build time and peak memory, one inclusion proof's time and size, its verification time.
# Without dapol on the PATH its half is skipped with a message. Run from anywhere:
#   bash prover/benches/compare-dapol.sh [WORK_DIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${POR_DAPOL_USERS:-65536}
W=${1:-$(mktemp -d)}
mkdir -p "$W"
cargo build --release --quiet -p por-prover -p por-verifier
P=$PWD/target/release/por-prove
V=$PWD/target/release/por-verify
# wall seconds and peak MiB of a command, from GNU time (printed on one line: "SECS PEAK_MIB")
measure() {
  local log=$W/time.log
  if [ -x /usr/bin/time ]; then
    /usr/bin/time -o "$log" -f "%e %M" "$@" > "$W/last.out" 2> "$W/last.err" || { cat "$W/last.err" >&2; return 1; }
    awk '{ printf "%.2f s, peak %.0f MiB", $1, $2 / 1024 }' "$log"
  else
    local s=$(date +%s.%N); "$@" > "$W/last.out" 2> "$W/last.err"; local e=$(date +%s.%N)
    awk -v s="$s" -v e="$e" 'BEGIN { printf "%.2f s, peak n/a", e - s }'
  fi
}

"$P" example-data --users "$N" --assets 1 --seed 7 --out "$W/liabilities.csv"
echo "customers: $N, one asset (BTC:8), height 32, work dir $W"
echo
echo "== por-prove (hidden sums)"
[ -f "$W/k" ] || "$P" keygen --out "$W/k" > "$W/k.pub"
rm -rf "$W/ours"
echo "build:  $(measure "$P" build --liabilities "$W/liabilities.csv" --key "$W/k" --exchange Bench \
  --period 2026-11 --snapshot-time 2026-11-30T23:59:59Z --height 32 --hidden-sums --out "$W/ours")"
echo "proof:  $(measure "$P" proof --from "$W/ours" --user u00000042 --out "$W/ours-proof.json") \
(the committed tree rebuilt with the path, then the range proofs), $(wc -c < "$W/ours-proof.json") bytes of JSON"
echo "verify: $(measure "$V" proof --attestation "$W/ours/attestation.json" --proof "$W/ours-proof.json" \
  --exchange-key "$(cat "$W/k.pub")" --user-id u00000042 --no-store)"

echo
echo "== dapol"
if ! command -v dapol > /dev/null; then
  echo "dapol is not installed (cargo install dapol): skipped"
  exit 0
fi
dapol --version || true
# dapol reads entity_id,liability with integer liabilities (u64).
awk -F, 'NR == 1 { print "entity_id,liability"; next } { split($2, p, "."); printf "%s,%d\n", $1, p[1] * 100000000 + p[2] }' \
  "$W/liabilities.csv" > "$W/entities.csv"
printf 'master_secret = "bench-master-secret-of-at-least-128-bits"\n' > "$W/secrets.toml"
echo u00000042 > "$W/ids.txt"
rm -rf "$W/dapol" && mkdir -p "$W/dapol"
echo "build:  $(cd "$W/dapol" && measure dapol build-tree new --accumulator-type ndm-smt --height 32 \
  --secrets-file "$W/secrets.toml" --entities-file "$W/entities.csv" --serialize "$W/dapol/tree.dapoltree")"
root=$(grep -Eio 'root hash[^0-9a-fx]*(0x)?[0-9a-f]{64}' "$W/last.out" "$W/last.err" | grep -Eio '(0x)?[0-9a-f]{64}' | head -n 1 || true)
echo "proof:  $(cd "$W/dapol" && measure dapol gen-proofs --entity-ids "$W/ids.txt" --tree-file "$W/dapol/tree.dapoltree" --file-type json)"
proof=$(find "$W/dapol" -name '*u00000042*' -type f | head -n 1)
if [ -n "$proof" ]; then
  echo "        $(wc -c < "$proof") bytes ($proof, JSON)"
  if [ -n "$root" ]; then
    echo "verify: $(cd "$W/dapol" && measure dapol verify-inclusion-proof --file-path "$proof" --root-hash "$root")"
  else
    echo "verify: skipped (the root hash was not found in dapol's log)"
  fi
else
  echo "        the proof file was not found under $W/dapol"
fi
