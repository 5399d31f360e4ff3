//! What a transparent proof reveals, as README and spec/tree.md say: a sibling near the leaf is
//! often exactly another customer's balances, and zero-sum (padding) siblings show how sparse
//! the neighbourhood is. Until hidden sums land, this test keeps those sentences true.

use por_e2e::{read_json, Exchange};
use std::collections::HashSet;

fn rows(n: usize) -> (String, HashSet<Vec<String>>) {
    let mut csv = String::from("user_id,BTC:8,ETH:18\n");
    let mut set = HashSet::new();
    for i in 0..n {
        let (btc, eth) = (100_000 + i as u128 * 7, 1_000_000_000_000 + i as u128 * 13);
        csv.push_str(&format!("u{i:03},0.{btc:08},0.{eth:018}\n"));
        set.insert(vec![btc.to_string(), eth.to_string()]);
    }
    (csv, set)
}

#[test]
fn a_transparent_proof_shows_other_customers_balances() {
    // A full tree: every leaf's first sibling is another customer's leaf.
    let (csv, balances) = rows(64);
    let ex = Exchange::build(&csv, &["--height", "6"]);
    let proof = read_json(&ex.proof("u007"));
    let own: Vec<String> = proof["balances"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    let first: Vec<String> = proof["path"][0].as_array().unwrap()[1..]
        .iter()
        .map(|v| v.as_str().unwrap().to_string())
        .collect();
    assert_ne!(first, own);
    assert!(
        balances.contains(&first),
        "path[0] is exactly another customer's balances: {first:?}"
    );

    // A sparse tree: padding siblings (all sums zero) give away the empty neighbourhood.
    let (csv, _) = rows(8);
    let ex = Exchange::build(&csv, &["--height", "12"]);
    let proof = read_json(&ex.proof("u003"));
    let zero_levels = proof["path"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|step| step.as_array().unwrap()[1..].iter().all(|s| s == "0"))
        .count();
    assert!(
        zero_levels >= 6,
        "most low siblings of a sparse tree are empty: {zero_levels} of 12"
    );
}
