#!/usr/bin/env bash
# The monthly proof-of-reserves flow of an example exchange, on the data bundled in
# examples/example-exchange/ (10,000 customers, 5 assets). Every step is a real command a
# user would type; outputs go to examples/out/ (not tracked). The example's wallets
# (examples/wallets.rs) use demonstration keys and illustrative UTXOs, so the reserves are
# checked offline here (signatures and bindings); tests/reserves_chain.rs checks balances and
# snapshot times against real nodes.
#
# `bash examples/monthly.sh --hidden-sums` runs the same months in the hidden-sums mode
# (spec/hidden.md): proofs show the customer's own balances only, and cost seconds to make.
set -euo pipefail
cd "$(dirname "$0")/.."
MODE=()
case "${1:-}" in
  "") ;;
  --hidden-sums) MODE=(--hidden-sums) ;;
  *) echo "usage: bash examples/monthly.sh [--hidden-sums]" >&2; exit 2 ;;
esac
echo "Building the tools (release)..."
cargo build --release --quiet -p por-prover -p por-verifier
cargo build --release --quiet -p por-e2e --example wallets
BIN=target/release
OUT=examples/out
rm -rf "$OUT"
mkdir -p "$OUT"

step() { printf '\n\033[1m## %s\033[0m\n' "$1"; shift; printf '$ %s\n' "$*"; "$@"; }
# The customer's store of verified attestations and pinned keys, kept inside the example.
export POR_VERIFY_STORE="$OUT/customer-store"

step "The exchange creates its attestation key once (publish the public key on its website)" \
  "$BIN/por-prove" keygen --out "$OUT/exchange.key"
KEY=$("$BIN/por-prove" pubkey --key "$OUT/exchange.key")

"$BIN/por-prove" example-data --users 10000 --assets 5 --seed 2 --out "$OUT/october.csv"
step "Last month: the exchange built and signed October, starting its public history" \
  "$BIN/por-prove" build --liabilities "$OUT/october.csv" \
  --key "$OUT/exchange.key" --exchange "Example Exchange" --period 2026-10 \
  --snapshot-time 2026-10-31T23:59:59Z --assets BTC:8,ETH:18,USDT:6,USDC:6,DAI:18 --out "$OUT/2026-10" \
  --history "$OUT/history.json" ${MODE[@]+"${MODE[@]}"}

step "This month: the exchange builds and signs November, chained to October in the history" \
  "$BIN/por-prove" build --liabilities examples/example-exchange/liabilities.csv \
  --key "$OUT/exchange.key" --exchange "Example Exchange" --period 2026-11 \
  --snapshot-time 2026-11-30T23:59:59Z --assets BTC:8,ETH:18,USDT:6,USDC:6,DAI:18 --out "$OUT/2026-11" \
  --history "$OUT/history.json" ${MODE[@]+"${MODE[@]}"}

step "The exchange gets the exact message its Bitcoin and Ethereum reserve addresses must sign" \
  "$BIN/por-prove" reserves challenge --attestation "$OUT/2026-11/attestation.json" \
  --chain bitcoin --height 870000 --out "$OUT/challenge-bitcoin.txt"
cat "$OUT/challenge-bitcoin.txt"; echo
"$BIN/por-prove" reserves challenge --attestation "$OUT/2026-11/attestation.json" \
  --chain ethereum --height 21000000 --out "$OUT/challenge-ethereum.txt"

step "Its wallets sign (hot P2WPKH, a hardware wallet, a 2-of-3 cold multisig, an Ethereum account, a 2-of-3 Safe)" \
  "$BIN/examples/wallets" "$OUT/challenge-bitcoin.txt" "$OUT/challenge-ethereum.txt" "$OUT/reserves.json"

step "The exchange signs its reserves statement; every signature and binding is checked on the way in" \
  "$BIN/por-prove" reserves add --out "$OUT/2026-11" --reserves "$OUT/reserves.json" --key "$OUT/exchange.key" \
  --history "$OUT/history.json"

"$BIN/por-prove" publish --from "$OUT/2026-10" --to "$OUT/www" --history "$OUT/history.json" > /dev/null
step "The exchange publishes exactly the month's public files, each checked first, to the folder it serves (never private/)" \
  "$BIN/por-prove" publish --from "$OUT/2026-11" --to "$OUT/www" --history "$OUT/history.json"

step "The exchange hands customer u00000042 their inclusion proof" \
  "$BIN/por-prove" proof --from "$OUT/2026-11" --user u00000042 --out "$OUT/proof-u00000042.json"

# No node here: --offline says so, and the reserves read CLAIMED, NOT CHECKED ON CHAIN (without
# it, and without --node CHAIN=URL, the run is UNVERIFIED, exit 3).
step "The customer verifies it offline with the exchange's public key (inclusion, the published history; reserves signatures only); the key is pinned" \
  "$BIN/por-verify" proof --attestation "$OUT/2026-11/attestation.json" \
  --proof "$OUT/proof-u00000042.json" --exchange-key "$KEY" --user-id u00000042 \
  --reserves "$OUT/2026-11/reserves.json" --history "$OUT/history.json" --offline

"$BIN/por-prove" proof --from "$OUT/2026-10" --user u00000042 --out "$OUT/proof-u00000042-october.json"
step "The customer's balances month by month, each verified (the key pinned in the last run is used)" \
  "$BIN/por-verify" proof --attestation "$OUT/2026-10/attestation.json" --proof "$OUT/proof-u00000042-october.json" \
  --attestation "$OUT/2026-11/attestation.json" --proof "$OUT/proof-u00000042.json" --user-id u00000042

# The history: every month signed and chained; the anchor chain needs a Bitcoin node (exit 3 here).
set +e
step "Anyone checks the whole history (with --bitcoin-rpc, also that it is the one anchored on Bitcoin)" \
  "$BIN/por-verify" history --history "$OUT/www/history.json"
code=$?
set -e
if [ "$code" -ne 3 ]; then echo "expected exit 3 for the history without a node, got $code" >&2; exit 1; fi

step "An auditor recomputes the whole tree from the private data and checks it against the books" \
  "$BIN/por-verify" audit --attestation "$OUT/2026-11/attestation.json" --data "$OUT/2026-11" \
  --exchange-key "$KEY"

step "Anyone checks the reserves' signatures and bindings asset by asset, offline (--offline: balances not checked)" \
  "$BIN/por-verify" reserves --attestation "$OUT/2026-11/attestation.json" \
  --reserves "$OUT/2026-11/reserves.json" --exchange-key "$KEY" --offline

# Without --offline and without a node, the verdict cannot be a pass: exit 3, UNVERIFIED.
set +e
step "Without your own nodes (--node bitcoin=URL --node ethereum=URL) the verdict is UNVERIFIED (exit 3), never a pass" \
  "$BIN/por-verify" reserves --attestation "$OUT/2026-11/attestation.json" \
  --reserves "$OUT/2026-11/reserves.json" --exchange-key "$KEY"
code=$?
set -e
if [ "$code" -ne 3 ]; then echo "expected exit 3 without nodes, got $code" >&2; exit 1; fi

# What a customer sees if the exchange lowers their balance in the proof.
sed -E 's/^"balances":\["[0-9]+"/"balances":["1"/' "$OUT/proof-u00000042.json" > "$OUT/tampered.json"
set +e
step "If the exchange had lowered this customer's BTC balance, the verifier would say so (exit 1)" \
  "$BIN/por-verify" proof --attestation "$OUT/2026-11/attestation.json" \
  --proof "$OUT/tampered.json" --exchange-key "$KEY" --user-id u00000042
code=$?
set -e
if [ "$code" -ne 1 ]; then echo "expected exit 1 for the tampered proof, got $code" >&2; exit 1; fi
printf '\nDone: everything is in %s (the private/ folder and the key are secrets).\n' "$OUT"
