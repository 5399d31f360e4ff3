//! The customer's check in a browser: [`por_core::customer::check`] behind one function the
//! page calls with the files' text. Nothing here reads files or talks to a network; the page
//! hands over what the customer chose, and shows what comes back.

use por_core::outcome::{Code, JSON_SCHEMA_VERSION};
use por_core::ErrorKind;
use serde_json::{json, Value};
use wasm_bindgen::prelude::wasm_bindgen;

/// Checks a customer's proof; returns the verdict as JSON text:
/// `{"schema_version", "code", "result": "pass"|"fail"|"error", "exit_code", "checks", "balances", "liabilities",
/// "not_checked", "summary", "error", "fingerprint", "exchange", "period", "snapshot_time"}`,
/// and on failure the code's `evidence`, `evidence_words`, `meaning` and `next_step`
/// (spec/outcomes.md), with the same codes, words and exit codes as `por-verify proof`.
/// `history` is the exchange's `history.json`, or empty when the customer gave none.
#[wasm_bindgen]
pub fn verify(
    attestation: &str,
    proof: &str,
    user_id: &str,
    exchange_key: &str,
    history: &str,
) -> String {
    verify_value(attestation, proof, user_id, exchange_key, history).to_string()
}

/// The same as [`verify`], as a JSON value (for tests on the host).
pub fn verify_value(
    attestation: &str,
    proof: &str,
    user_id: &str,
    exchange_key: &str,
    history: &str,
) -> Value {
    let pairs = |v: &[(String, String)]| -> Vec<Value> {
        v.iter()
            .map(|(s, a)| json!({"symbol": s, "amount": a}))
            .collect()
    };
    let history = (!history.is_empty()).then_some(history.as_bytes());
    match por_core::customer::check_with_history(
        attestation.as_bytes(),
        proof.as_bytes(),
        user_id,
        exchange_key,
        history,
    ) {
        Ok(c) => json!({
            "schema_version": JSON_SCHEMA_VERSION, "code": Code::Ok.as_str(),
            "result": "pass", "exit_code": 0, "exchange": c.exchange, "period": c.period,
            "snapshot_time": c.snapshot_time, "fingerprint": c.fingerprint, "checks": c.checks,
            "balances": pairs(&c.balances), "liabilities": pairs(&c.liabilities),
            "not_checked": c.not_checked, "summary": c.summary,
        }),
        Err(e) => {
            let (result, words) = match e.kind() {
                ErrorKind::Failed => ("fail", "NOT VERIFIED"),
                ErrorKind::Unverified => ("unverified", "UNVERIFIED"),
                ErrorKind::BadInput => ("error", "CANNOT CHECK"),
            };
            let c = e.code();
            json!({
                "schema_version": JSON_SCHEMA_VERSION, "code": c.as_str(),
                "evidence": c.evidence().as_str(), "evidence_words": c.evidence().words(),
                "meaning": c.meaning(), "next_step": c.next_step(),
                "result": result, "exit_code": e.exit_code(), "error": e.message(),
                "summary": format!("{words}: {}", e.message()),
                "not_checked": por_core::customer::limits(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::verify_value;

    #[test]
    fn the_page_gets_the_clis_verdicts() {
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/vectors/core.json")).unwrap();
        let att = v["attestation"]["json"].to_string();
        let proof = v["tree"]["proofs"][0].to_string();
        let seed: [u8; 32] = hex_seed(v["attestation"]["signing_key_seed"].as_str().unwrap());
        let key = hex_key(&seed);
        let ok = verify_value(&att, &proof, "alice", &key, "");
        assert_eq!(ok["result"], "pass", "{ok}");
        assert!(ok["summary"].as_str().unwrap().starts_with("VERIFIED"));
        let wrong_user = verify_value(&att, &proof, "bob", &key, "");
        assert_eq!(wrong_user["code"], "proof.other_user");
        assert_eq!(wrong_user["exit_code"], 2);
        let mut forged: serde_json::Value = serde_json::from_str(&proof).unwrap();
        forged["balances"][0] = serde_json::json!("1");
        let forged = verify_value(&att, &forged.to_string(), "alice", &key, "");
        assert_eq!(forged["code"], "proof.root_mismatch", "{forged}");
        assert_eq!(forged["exit_code"], 1);
        assert_eq!(forged["evidence"], "only_to_you");
        let garbage = verify_value("<html>", &proof, "alice", &key, "");
        assert_eq!(garbage["exit_code"], 2);
        assert!(garbage["error"].as_str().unwrap().contains("HTML"));
    }

    fn hex_seed(s: &str) -> [u8; 32] {
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap();
        }
        out
    }

    fn hex_key(seed: &[u8; 32]) -> String {
        let key = ed25519_dalek::SigningKey::from_bytes(seed)
            .verifying_key()
            .to_bytes();
        key.iter().map(|b| format!("{b:02x}")).collect()
    }
}
