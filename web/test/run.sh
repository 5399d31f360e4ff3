#!/usr/bin/env bash
# The browser verifier's test: builds a small month with the real por-prove, then drives
# web/dist/verify.html in headless Chromium (playwright-core). Needs web/build.sh to have run,
# /usr/bin/chromium, and `npm ci` in web/test. Screenshots go to web/test/out/.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${POR_BIN:-target/debug}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BIN/por-prove" keygen --out "$T/k" > "$T/pub"
"$BIN/por-prove" keygen --out "$T/k2" > "$T/pub2"
printf 'user_id,BTC:8,ETH:18\nalice,1.5,2\nbob,3,0\ncarol,0.25,7\n' > "$T/l.csv"
"$BIN/por-prove" build --liabilities "$T/l.csv" --key "$T/k" --exchange "Browser Exchange" --period 2026-11 \
  --snapshot-time 2026-11-30T12:00:00Z --out "$T/m" --history "$T/history.json" > /dev/null
# Another tree for the same month, in a history of its own: the split view a history exposes.
"$BIN/por-prove" build --liabilities "$T/l.csv" --key "$T/k" --exchange "Browser Exchange" --period 2026-11 \
  --snapshot-time 2026-11-30T13:00:00Z --out "$T/m2" --history "$T/other-history.json" > /dev/null
"$BIN/por-prove" proof --from "$T/m" --user alice --out "$T/proof.json"
# The same customers in the hidden-sums mode.
"$BIN/por-prove" build --liabilities "$T/l.csv" --key "$T/k" --exchange "Browser Exchange" --period 2026-11 \
  --snapshot-time 2026-11-30T12:00:00Z --out "$T/h" --hidden-sums > /dev/null
"$BIN/por-prove" proof --from "$T/h" --user alice --out "$T/hidden.json"
sed -E 's/^"balances":\["150000000"/"balances":["15000000"/' "$T/hidden.json" > "$T/hidden-tampered.json"
cmp -s "$T/hidden.json" "$T/hidden-tampered.json" && { echo "run.sh: tampering did not change the hidden proof" >&2; exit 1; }
# The exchange lowers alice's BTC balance in her proof.
sed -E 's/^"balances":\["150000000"/"balances":["15000000"/' "$T/proof.json" > "$T/tampered.json"
cmp -s "$T/proof.json" "$T/tampered.json" && { echo "run.sh: tampering did not change the proof" >&2; exit 1; }
# Memory: a second, different attestation for the month (same key, another time), one by a
# key with no handover, alice's proof of each, and the CLI's store after verifying the first.
"$BIN/por-prove" proof --from "$T/m2" --user alice --out "$T/proof2.json"
"$BIN/por-prove" build --liabilities "$T/l.csv" --key "$T/k2" --exchange "Browser Exchange" --period 2026-11 \
  --snapshot-time 2026-11-30T14:00:00Z --out "$T/m3" > /dev/null
"$BIN/por-prove" proof --from "$T/m3" --user alice --out "$T/proof3.json"
# The next month under a new key, the old one lost (no handover): the customer re-pins knowingly.
cp "$T/history.json" "$T/history-lost.json"
"$BIN/por-prove" build --liabilities "$T/l.csv" --key "$T/k2" --exchange "Browser Exchange" --period 2026-12 \
  --snapshot-time 2026-12-01T12:00:00Z --out "$T/m4" --history "$T/history-lost.json" --key-lost > /dev/null
"$BIN/por-prove" proof --from "$T/m4" --user alice --out "$T/proof4.json"
"$BIN/por-verify" proof --attestation "$T/m/attestation.json" --proof "$T/proof.json" --user-id alice \
  --exchange-key "$(cat "$T/pub")" --store "$T/cli-store" > /dev/null
# Reserves: a statement with no entries (short even as claimed) and an altered copy.
printf '{"entries": []}\n' > "$T/entries.json"
"$BIN/por-prove" reserves add --out "$T/m" --reserves "$T/entries.json" --key "$T/k" > /dev/null
sed -E 's/"sequence": ?1/"sequence": 2/' "$T/m/reserves-0001.json" > "$T/reserves-altered.json"
cmp -s "$T/m/reserves-0001.json" "$T/reserves-altered.json" && { echo "run.sh: altering did not change the statement" >&2; exit 1; }
# Another exchange's proof file (OKX's sample), and a copy with the customer's BTC changed.
OKX_V1="$PWD/tests/vectors/published/okx/merkle_proof_file.json"
sed -E 's/"BTC":"1.000069"/"BTC":"1.000070"/' "$OKX_V1" > "$T/okx-changed.json"
cmp -s "$OKX_V1" "$T/okx-changed.json" && { echo "run.sh: changing did not change the OKX file" >&2; exit 1; }
OKX_V1="$OKX_V1" OKX_V1_CHANGED="$T/okx-changed.json" GATE="$PWD/tests/vectors/published/gate/user_config-readme.json" \
ATT2="$T/m2/attestation.json" PROOF2="$T/proof2.json" ATT3="$T/m3/attestation.json" PROOF3="$T/proof3.json" \
  ATT4="$T/m4/attestation.json" PROOF4="$T/proof4.json" \
  CLI_STORE="$T/cli-store/store.json" RESERVES="$T/m/reserves-0001.json" RESERVES_ALTERED="$T/reserves-altered.json" \
  EXPORT_TO="$T/exported-store.json" VERIFY="$BIN/por-verify" \
PAGE="$PWD/web/dist/verify.html" OUT="$PWD/web/test/out" ATT="$T/m/attestation.json" PROOF="$T/proof.json" \
  TAMPERED="$T/tampered.json" HIDDEN_ATT="$T/h/attestation.json" HIDDEN_PROOF="$T/hidden.json" \
  HIDDEN_TAMPERED="$T/hidden-tampered.json" HISTORY="$T/history.json" OTHER_HISTORY="$T/other-history.json" KEY=$(cat "$T/pub") OTHER_KEY=$(cat "$T/pub2") node web/test/browser.mjs
