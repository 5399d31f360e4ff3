//! The example exchange's wallets signing this month's reserve challenges.
//!
//! In production the exchange's wallets (hardware wallets, cold-storage cosigners, custody
//! systems) sign the challenge outside this toolkit; this program plays their part for the
//! example, with fixed demonstration keys, and writes the entries file that
//! `por-prove reserves add` takes (balances in each chain's base units: satoshi, wei, token
//! units). Run by `examples/monthly.sh`:
//!
//!     cargo run --example wallets -- CHALLENGE_BITCOIN CHALLENGE_ETHEREUM OUT.json
//!
//! The UTXOs are illustrative (the example runs offline, so reserves are "claimed"); the tests
//! in tests/reserves_chain.rs check real ones against a regtest node.

use bitcoin::Network;
use por_e2e::signers::{multisig_script, BtcKey, EthKey};
use serde_json::json;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [btc_file, eth_file, out] = args.as_slice() else {
        eprintln!("usage: wallets CHALLENGE_BITCOIN CHALLENGE_ETHEREUM OUT.json");
        std::process::exit(2);
    };
    let read = |p: &str| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{p}: {e}"));
    let (btc_msg, eth_msg) = (read(btc_file), read(eth_file));
    let height = |msg: &str| -> u64 {
        msg.lines()
            .find_map(|l| l.strip_prefix("Snapshot height: "))
            .and_then(|h| h.parse().ok())
            .expect("height")
    };
    let (bh, eh) = (height(&btc_msg), height(&eth_msg));

    // Hot wallet: P2WPKH, BIP-322.
    let hot = BtcKey::from_seed(101, Network::Bitcoin);
    // A hardware wallet: P2SH-P2WPKH, legacy signmessage with a BIP-137 header.
    let hw = BtcKey::from_seed(102, Network::Bitcoin);
    // Cold storage: 2-of-3 P2WSH; two cosigners sign.
    let cold: Vec<BtcKey> = (103..106)
        .map(|s| BtcKey::from_seed(s, Network::Bitcoin))
        .collect();
    let script = multisig_script(2, &[&cold[0], &cold[1], &cold[2]]);
    let cold_addr = bitcoin::Address::p2wsh(&script, Network::Bitcoin);
    let eth = EthKey::from_seed(106);
    let eth_sig = eth.personal_sign(eth_msg.as_bytes());
    // Cold storage on Ethereum: a 2-of-3 Safe 1.4.1; two owners sign the hash the Safe computes
    // for the challenge (`por-prove reserves challenge --safe ... --wallet safe-1.4.1` prints it).
    // Offline its owners and threshold cannot be read, so the example's verification shows it
    // as not counted; against a node it counts as a 2-of-3 multisig (tests/safe.rs).
    let safe = "0x000000000000000000000000000000000005afe1";
    let safe_hash = por_verifier::safe::message_hash(
        por_verifier::safe::SafeVersion::V1_4_1,
        1,
        &por_verifier::evm::EthAddress::parse(safe).expect("address"),
        &por_verifier::safe::challenge_message(eth_msg.as_bytes()),
    );
    let owners: Vec<EthKey> = (107..110).map(EthKey::from_seed).collect();
    let txid = |n: u8| hex::encode([n; 32]);
    let token = |asset: &str, contract: &str, balance: &str| {
        json!({"asset": asset, "chain": "ethereum", "height": eh, "address": eth.address(), "token": contract,
               "balance": balance, "signatures": [eth_sig], "storage": "hot", "custodian": "Example Exchange"})
    };
    let entries = json!([
        {"asset": "BTC", "chain": "bitcoin", "height": bh, "address": hot.p2wpkh().to_string(), "balance": "2500000000",
         "utxos": [{"outpoint": format!("{}:0", txid(0xa1)), "value": "2000000000"}, {"outpoint": format!("{}:3", txid(0xa2)), "value": "500000000"}],
         "signatures": [hot.sign_bip322(&hot.p2wpkh(), &btc_msg)], "storage": "hot", "custodian": "Example Exchange"},
        {"asset": "BTC", "chain": "bitcoin", "height": bh, "address": hw.p2sh_p2wpkh().to_string(), "balance": "4000000000",
         "utxos": [{"outpoint": format!("{}:1", txid(0xb1)), "value": "4000000000"}],
         "signatures": [hw.sign_compact(&btc_msg, 35)], "storage": "cold", "custodian": "Example Exchange"},
        {"asset": "BTC", "chain": "bitcoin", "height": bh, "address": cold_addr.to_string(), "balance": "30000000000",
         "utxos": [{"outpoint": format!("{}:0", txid(0xc1)), "value": "30000000000"}],
         "script": script.to_hex_string(),
         "signatures": [cold[0].sign_compact(&btc_msg, 31), cold[2].sign_compact(&btc_msg, 31)],
         "storage": "cold", "custodian": "Example Custody Trust"},
        {"asset": "ETH", "chain": "ethereum", "height": eh, "address": eth.address(), "balance": "14000000000000000000000",
         "signatures": [eth_sig], "storage": "hot", "custodian": "Example Exchange"},
        {"asset": "ETH", "chain": "ethereum", "height": eh, "address": safe, "wallet": "safe-1.4.1",
         "balance": "2000000000000000000000",
         "signatures": [owners[0].sign_digest(safe_hash, 27), owners[2].sign_digest(safe_hash, 27)],
         "storage": "cold", "custodian": "Example Exchange"},
        token("USDT", "0xdAC17F958D2ee523a2206206994597C13D831ec7", "5400000000000"),
        token("USDC", "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48", "4000000000000"),
        token("DAI", "0x6B175474E89094C44Da98b954EedeAC495271d0F", "6700000000000000000000000"),
    ]);
    let file = json!({"entries": entries});
    std::fs::write(out, serde_json::to_string_pretty(&file).expect("json"))
        .unwrap_or_else(|e| panic!("{out}: {e}"));
    println!(
        "wallets signed {} reserve entries into {out}",
        file["entries"].as_array().map_or(0, Vec::len)
    );
}
