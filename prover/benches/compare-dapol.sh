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
(the path read from the stored tree, the range proofs made and the proof checked)"
# Content as a binary encoding would hold it: position, salt, balance and blinding, 32 hashes
# and commitments, the range proof's bytes (hex in the JSON).
rp=$(sed -n 's/^"range_proofs"://p' "$W/ours-proof.json" | tr -cd '0-9a-f' | wc -c)
echo "        $(wc -c < "$W/ours-proof.json") bytes of JSON, $((8 + 32 + 48 + 32 * 64 + rp / 2)) bytes of content"
echo "verify: $(measure "$V" proof --attestation "$W/ours/attestation.json" --proof "$W/ours-proof.json" \
  --exchange-key "$(cat "$W/k.pub")" --user-id u00000042 --no-store)"

echo
echo "== dapol"
if ! command -v dapol > /dev/null; then
  echo "dapol is not installed (cargo install dapol): skipped"
  exit 0
fi
dapol --version || true
# dapol reads id,liability with integer liabilities (u64), a master secret of at most 32 bytes,
# and entity ids to prove as a CSV file with an id column. Its JSON proofs do not read back in
# version 0.4.0 (a range proof's encoding), so the binary form is used and measured.
awk -F, 'NR == 1 { print "id,liability"; next } { split($2, p, "."); printf "%s,%d\n", $1, p[1] * 100000000 + p[2] }' \
  "$W/liabilities.csv" > "$W/entities.csv"
printf 'master_secret = "bench-master-secret-0123456789ab"\n' > "$W/secrets.toml"
printf 'id\nu00000042\n' > "$W/ids.csv"
rm -rf "$W/dapol" && mkdir -p "$W/dapol"
cd "$W/dapol"
echo "build:  $(measure dapol build-tree new --accumulator-type ndm-smt --height 32 --max-liability 1125899906842624 \
  --secrets-file "$W/secrets.toml" --entities-file "$W/entities.csv" --serialize "$W/dapol/tree.dapoltree")"
root=$(grep -Eoh 'root hash: 0x[0-9a-f]{64}' "$W/last.out" "$W/last.err" | head -n 1 | cut -d' ' -f3 || true)
echo "proof:  $(measure dapol gen-proofs --entity-ids "$W/ids.csv" --tree-file "$W/dapol/tree.dapoltree" --file-type binary) \
(the tree file read, then the proof), $(wc -c < "$W/dapol/inclusion_proofs/u00000042.dapolproof") bytes (binary)"
if [ -n "$root" ]; then
  echo "verify: $(measure dapol verify-inclusion-proof --file-path "$W/dapol/inclusion_proofs/u00000042.dapolproof" --root-hash "$root")"
else
  echo "verify: skipped (the root hash was not found in dapol's log)"
fi
