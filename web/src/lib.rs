//! The customer's check in a browser: [`por_core::customer::check_remembered`] and the
//! offline reserves checks behind functions the page calls with the files' text. Nothing here
//! reads files or talks to a network; the page hands over what the customer chose and the
//! memory it keeps (the command line's `store.json`, in the browser's storage), and shows what
//! comes back.

use por_core::attestation::Attestation;
use por_core::hash::Hash;
use por_core::memory::Memory;
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
        Err(e) => failure(&e, "NOT VERIFIED"),
    }
}

/// A failure as the page shows it: the code's words from spec/outcomes.md.
fn failure(e: &por_core::Error, fail_word: &str) -> Value {
    let (result, words) = match e.kind() {
        ErrorKind::Failed => ("fail", fail_word),
        ErrorKind::Unverified => ("unverified", "UNVERIFIED"),
        ErrorKind::BadInput => ("error", "CANNOT CHECK"),
    };
    let c = e.code();
    json!({
        "schema_version": JSON_SCHEMA_VERSION, "code": c.as_str(),
        "evidence": c.evidence().as_str(), "evidence_words": c.evidence().words(),
        "meaning": c.meaning(), "next_step": page_step(c),
        "result": result, "exit_code": e.exit_code(), "error": e.message(),
        "summary": format!("{words}: {}", e.message()),
        "not_checked": por_core::customer::limits(),
    })
}

/// The code's next step in the page's words: spec/outcomes.md words them for the command line,
/// and a customer on the page has fields and buttons, not flags.
fn page_step(c: Code) -> &'static str {
    match c {
        Code::OkSignaturesOnly => {
            "check the addresses and their balances with the command-line verifier (por-verify reserves) and your \
             own node for each chain"
        }
        Code::KeyChanged => {
            "ask the exchange why; add its history if you skipped months; trust a new key only after checking its \
             announcement"
        }
        Code::NoKey => "type the exchange's key, taken from the exchange's page and compared with mirrors",
        c => c.next_step(),
    }
}

/// Re-pins, in the page's memory, the key that signed `attestation` for the exchange it names,
/// as `por-verify pin --confirm` does: the customer's knowing choice after KEY CHANGED (or a
/// renamed exchange), once the exchange's announcement is checked. The key is taken from the
/// attestation, whose signature must hold, so no key can be mistyped. The months remembered
/// stay, so a second version of one of them is still EQUIVOCATION. Returns
/// `{"ok", "store", "exchange", "key"}` or `{"ok": false, "error", "code"}`.
#[wasm_bindgen]
pub fn repin(store: &str, attestation: &str, now: f64) -> String {
    let run = || -> por_core::Result<Value> {
        let mut m = memory(store)?;
        let att = Attestation::from_json("attestation", attestation.as_bytes())?;
        let key = por_core::attestation::parse_public_key(&Hash(att.public_key).to_hex())?;
        att.verify_signature(&key)?;
        m.pin(
            &att.exchange,
            &att.public_key,
            por_core::identity::HOW_MANUAL,
            &por_core::time::format_utc(now as i64),
        );
        Ok(
            json!({"ok": true, "store": m.to_json(), "exchange": att.exchange, "key": Hash(att.public_key).to_hex()}),
        )
    };
    match run() {
        Ok(v) => v,
        Err(e) => json!({"ok": false, "error": e.message(), "code": e.code().as_str()}),
    }
    .to_string()
}

fn pairs(v: &[(String, String)]) -> Vec<Value> {
    v.iter()
        .map(|(s, a)| json!({"symbol": s, "amount": a}))
        .collect()
}

/// The memory the page keeps: `store` is the text of a `store.json` (empty for none yet).
fn memory(store: &str) -> por_core::Result<Memory> {
    if store.trim().is_empty() {
        return Ok(Memory::new());
    }
    Memory::from_json("the store on this page", store.as_bytes())
}

/// Checks a customer's proof against the memory the page keeps, as `por-verify proof` does
/// with its store: the key pinned on first use (then `exchange_key` may be empty), handovers
/// followed, and every month remembered compared (EQUIVOCATION, KEY CHANGED, FORK). `store` is
/// the memory's `store.json` text (empty when none yet); `now` the clock in Unix seconds.
/// Returns [`verify`]'s JSON plus, when the check passed, `store` (the memory to keep, the
/// command line's format) and `copy` (`{digest, json}`: the attestation, when new, to keep as
/// evidence); on EQUIVOCATION, `earlier` (the digest of the attestation remembered for the
/// period, whose copy the page keeps) and `shown_now` (this one's JSON).
#[wasm_bindgen]
pub fn verify_remembered(
    attestation: &str,
    proof: &str,
    user_id: &str,
    exchange_key: &str,
    history: &str,
    store: &str,
    now: f64,
) -> String {
    verify_remembered_value(
        attestation,
        proof,
        user_id,
        exchange_key,
        history,
        store,
        now,
    )
    .to_string()
}

/// The same as [`verify_remembered`], as a JSON value (for tests on the host).
pub fn verify_remembered_value(
    attestation: &str,
    proof: &str,
    user_id: &str,
    exchange_key: &str,
    history: &str,
    store: &str,
    now: f64,
) -> Value {
    let mut m = match memory(store) {
        Ok(m) => m,
        Err(e) => return failure(&e, "NOT VERIFIED"),
    };
    let history = (!history.is_empty()).then_some(history.as_bytes());
    let run = por_core::customer::check_remembered(
        attestation.as_bytes(),
        proof.as_bytes(),
        user_id,
        exchange_key,
        history,
        &mut m,
        now as i64,
    );
    match run.result {
        Ok(c) => {
            let copy = run.new.then(|| {
                let att = Attestation::from_json("attestation", attestation.as_bytes()).ok();
                att.map(|a| json!({"digest": a.digest().to_hex(), "json": a.to_json()}))
            });
            json!({
                "schema_version": JSON_SCHEMA_VERSION, "code": Code::Ok.as_str(),
                "result": "pass", "exit_code": 0, "exchange": c.exchange, "period": c.period,
                "snapshot_time": c.snapshot_time, "fingerprint": c.fingerprint, "checks": c.checks,
                "balances": pairs(&c.balances), "liabilities": pairs(&c.liabilities),
                "not_checked": c.not_checked, "summary": c.summary,
                "store": m.to_json(), "copy": copy.flatten(),
            })
        }
        Err(e) => {
            let mut v = failure(&e, "NOT VERIFIED");
            if let Some(d) = run.earlier {
                v["earlier"] = json!(Hash(d).to_hex());
                v["shown_now"] = json!(attestation);
            }
            v
        }
    }
}

/// What an imported `store.json` holds, or why it is refused (as `por-verify` refuses it):
/// `{"ok", "error", "exchanges": [{"exchange", "key", "pinned_at", "how", "genesis", "months"}]}`.
#[wasm_bindgen]
pub fn store_info(store: &str) -> String {
    match memory(store) {
        Ok(m) => json!({
            "ok": true,
            "exchanges": m.exchanges.iter().map(|p| json!({
                "exchange": p.exchange, "key": Hash(p.key).to_hex(), "pinned_at": p.pinned_at,
                "how": p.how, "genesis": p.genesis,
                "months": p.seen.iter().map(|s| s.period.clone()).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
        }),
        Err(e) => json!({"ok": false, "error": e.message(), "code": e.code().as_str()}),
    }
    .to_string()
}

/// Checks a reserves statement offline for the attestation it backs: the exchange's signature
/// (by the key pinned in `store`, else `exchange_key`), its citation of the attestation, and the
/// signed bindings against the built-in registry; then sums what it claims per asset. Proofs of
/// control and balances are NOT checked here (that needs the addresses' signature schemes and
/// the user's own nodes: `por-verify reserves`), and the JSON says so in `not_checked`.
#[wasm_bindgen]
pub fn check_reserves(
    attestation: &str,
    statement: &str,
    exchange_key: &str,
    store: &str,
) -> String {
    check_reserves_value(attestation, statement, exchange_key, store).to_string()
}

/// The same as [`check_reserves`], as a JSON value (for tests on the host).
pub fn check_reserves_value(
    attestation: &str,
    statement: &str,
    exchange_key: &str,
    store: &str,
) -> Value {
    match reserves(attestation, statement, exchange_key, store) {
        Ok(v) => v,
        Err(e) => failure(&e, "NOT PROVEN"),
    }
}

fn reserves(
    attestation: &str,
    statement: &str,
    exchange_key: &str,
    store: &str,
) -> por_core::Result<Value> {
    use por_core::reserves::bindings::{check_bindings, claimed_by_asset};
    let m = memory(store)?;
    let att = Attestation::from_json("attestation", attestation.as_bytes())?;
    let stmt = por_core::reserves::ReservesStatement::from_json(
        "reserves statement",
        statement.as_bytes(),
    )?;
    let key_hex = match (m.pinned(&att.exchange), exchange_key.trim()) {
        (Some(p), _) => Hash(p.key).to_hex(),
        (None, "") => {
            return Err(por_core::Error::coded(
                Code::NoKey,
                format!(
                    "no key is remembered for {:?} on this page yet: give the exchange's public key, from a source \
                     you trust (the exchange's website, a mirror)",
                    att.exchange
                ),
            ))
        }
        (None, k) => k.to_string(),
    };
    let key = por_core::attestation::parse_public_key(&key_hex)?;
    att.verify_signature(&key)?;
    stmt.verify(&att, &key)?;
    let checks = check_bindings(&att, &por_core::registry::Registry::built_in());
    let mut failures: Vec<String> = Vec::new();
    let bindings: Vec<Value> = checks
        .iter()
        .map(|c| match &c.result {
            Ok((_, trust)) => json!({"binding": c.label, "ok": true, "trust": trust.words()}),
            Err(why) => {
                failures.push(format!("binding {}: {why}", c.label));
                json!({"binding": c.label, "ok": false, "why": why})
            }
        })
        .collect();
    let claimed = claimed_by_asset(&att, &stmt, &checks);
    let assets: Vec<Value> = claimed
        .iter()
        .map(|c| {
            // Two decimals, rounded down: a claim is never shown as more than it is.
            let ratio = c
                .claimed
                .0
                .saturating_mul(10_000)
                .checked_div(c.liabilities.0)
                .map_or("no liabilities".to_string(), |bp| {
                    format!("{}.{:02}%", bp / 100, bp % 100)
                });
            json!({
                "symbol": c.symbol, "liabilities": c.liabilities.to_decimal(c.decimals),
                "claimed": c.claimed.to_decimal(c.decimals), "claimed_percent": ratio,
                "entries": c.entries, "not_counted": c.not_counted,
                "status": if c.claimed.0 >= c.liabilities.0 { "CLAIMED, NOT CHECKED ON CHAIN" } else { "SHORT EVEN AS CLAIMED" },
            })
        })
        .collect();
    let short: Vec<&str> = claimed
        .iter()
        .filter(|c| c.claimed.0 < c.liabilities.0)
        .map(|c| c.symbol.as_str())
        .collect();
    let mut not_checked = vec![
        "the reserve addresses' signatures (proof of control): this page does not check them; por-verify \
         reserves does"
            .to_string(),
        "the balances on chain: this page has no network; run por-verify reserves with your own nodes".to_string(),
    ];
    if stmt
        .entries
        .iter()
        .any(|e| e.chain == "tron" || e.chain == "solana")
    {
        not_checked.push(
            "the holdings on TRON and Solana: no node can check them at the snapshot yet, so even por-verify \
             reserves reports them UNVERIFIED; take them as the exchange's word only"
                .to_string(),
        );
    }
    let (code, result, summary) = if !failures.is_empty() {
        (
            Code::BindingUnconfirmed,
            "fail",
            format!(
                "NOT PROVEN: the exchange signed bindings that cannot count: {}",
                failures.join("; ")
            ),
        )
    } else if !short.is_empty() {
        (
            Code::BalanceShort,
            "fail",
            format!(
                "NOT PROVEN: even as the exchange claims them, reserves do not cover liabilities for {}",
                short.join(", ")
            ),
        )
    } else {
        (
            Code::OkSignaturesOnly,
            "claims",
            "SIGNED CLAIMS ONLY: the statement is signed by the exchange for this attestation and its claims cover \
             every asset, but this page checked neither the addresses' signatures nor any balance on chain: this says \
             nothing of solvency"
                .to_string(),
        )
    };
    let mut v = json!({
        "schema_version": JSON_SCHEMA_VERSION, "code": code.as_str(), "result": result,
        "exit_code": code.exit_code(), "summary": summary, "statement": stmt.sequence,
        "entries": stmt.entries.len(), "bindings": bindings, "assets": assets, "not_checked": not_checked,
        "checks": [
            format!("reserves statement #{}: signed by {} and backs this attestation ({})", stmt.sequence, key_hex, att.digest()),
        ],
    });
    if result == "fail" {
        v["meaning"] = json!(code.meaning());
        v["next_step"] = json!(page_step(code));
        v["evidence"] = json!(code.evidence().as_str());
        v["evidence_words"] = json!(code.evidence().words());
    }
    Ok(v)
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

    #[test]
    fn the_page_remembers_as_the_cli_does() {
        use super::{store_info, verify_remembered_value};
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/vectors/core.json")).unwrap();
        let att = v["attestation"]["json"].to_string();
        let proof = v["tree"]["proofs"][0].to_string();
        let seed = hex_seed(v["attestation"]["signing_key_seed"].as_str().unwrap());
        let key = hex_key(&seed);
        let now = 1_900_000_000.0;
        let first = verify_remembered_value(&att, &proof, "alice", &key, "", "", now);
        assert_eq!(first["result"], "pass", "{first}");
        let store = first["store"].as_str().unwrap().to_string();
        assert!(
            store.starts_with("{\n  \"format\": \"por-store-v2\""),
            "{store}"
        );
        assert_eq!(first["copy"]["json"].as_str().unwrap(), att_json(&att));
        let info: serde_json::Value = serde_json::from_str(&store_info(&store)).unwrap();
        assert_eq!(info["exchanges"][0]["months"][0], "2026-11");
        // The next month's check needs no key: the pinned one.
        let again = verify_remembered_value(&att, &proof, "alice", "", "", &store, now);
        assert_eq!(again["result"], "pass", "{again}");
        assert!(again["copy"].is_null());
        // The same month re-signed: EQUIVOCATION with the earlier digest for the evidence.
        let mut a: serde_json::Value = serde_json::from_str(&att).unwrap();
        a["snapshot_time"] = serde_json::json!("2026-11-30T23:59:58Z");
        let other = resign(&a.to_string(), &seed);
        let r = verify_remembered_value(&other, &proof, "alice", "", "", &store, now);
        assert_eq!(r["code"], "history.equivocation", "{r}");
        assert_eq!(r["evidence"], "yes");
        assert_eq!(r["earlier"], first["copy"]["digest"]);
        assert!(r["store"].is_null(), "a failed check changes no memory");
        // Another key: KEY CHANGED.
        let stolen = resign(&att, &[9; 32]);
        let r = verify_remembered_value(&stolen, &proof, "alice", "", "", &store, now);
        assert_eq!(r["code"], "key.changed", "{r}");
        // The customer re-pins knowingly: the signer's key, with the months remembered kept, so
        // the new key's own version of a month already seen is still EQUIVOCATION.
        let p: serde_json::Value =
            serde_json::from_str(&super::repin(&store, &stolen, now)).unwrap();
        assert_eq!(p["ok"], true, "{p}");
        assert_eq!(p["key"], hex_key(&[9; 32]));
        let repinned = p["store"].as_str().unwrap();
        assert!(repinned.contains("re-pinned by the user"));
        let r = verify_remembered_value(&stolen, &proof, "alice", "", "", repinned, now);
        assert_eq!(r["code"], "history.equivocation", "{r}");
        // A forged attestation cannot be pinned: its signature must hold.
        let mut forged: serde_json::Value = serde_json::from_str(&stolen).unwrap();
        forged["period"] = serde_json::json!("2026-12");
        let p: serde_json::Value =
            serde_json::from_str(&super::repin(&store, &forged.to_string(), now)).unwrap();
        assert_eq!(
            (p["ok"].clone(), p["code"].clone()),
            (
                serde_json::json!(false),
                serde_json::json!("attestation.signature_invalid")
            ),
            "{p}"
        );
        // A store of another version is refused, not reset.
        let bad = verify_remembered_value(
            &att,
            &proof,
            "alice",
            &key,
            "",
            "{\"format\": \"por-store-v9\"}",
            now,
        );
        assert_eq!(bad["exit_code"], 2);
        assert!(bad["error"].as_str().unwrap().contains("another version"));
    }

    #[test]
    fn the_page_checks_a_statement_offline_and_says_what_it_did_not() {
        use super::check_reserves_value;
        let v: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/vectors/core.json")).unwrap();
        let att = v["attestation"]["json"].to_string();
        let stmt = v["reserves"]["statement_json"].to_string();
        let seed = hex_seed(v["attestation"]["signing_key_seed"].as_str().unwrap());
        let key = hex_key(&seed);
        let r = check_reserves_value(&att, &stmt, &key, "");
        assert!(
            [
                "ok.signatures_only",
                "reserves.balance_short",
                "reserves.binding_unconfirmed"
            ]
            .contains(&r["code"].as_str().unwrap()),
            "{r}"
        );
        assert!(
            r["summary"].as_str().unwrap().contains("NOT")
                || r["summary"].as_str().unwrap().contains("CLAIMS ONLY")
        );
        let nc = r["not_checked"].to_string();
        assert!(
            nc.contains("proof of control") && nc.contains("balances on chain"),
            "{nc}"
        );
        // An altered statement: its signature fails.
        let mut s: serde_json::Value = serde_json::from_str(&stmt).unwrap();
        s["sequence"] = serde_json::json!(9);
        let r = check_reserves_value(&att, &s.to_string(), &key, "");
        assert_eq!(r["code"], "reserves.statement_invalid", "{r}");
        assert_eq!(r["exit_code"], 1);
        // No key given and none remembered: the customer is asked for it.
        let r = check_reserves_value(&att, &stmt, "", "");
        assert_eq!(r["code"], "input.no_key", "{r}");
        // A statement with a TRON holding says that even por-verify cannot check it.
        assert!(!nc.contains("TRON"), "{nc}");
        let mut st =
            por_core::reserves::ReservesStatement::from_json("r", stmt.as_bytes()).unwrap();
        let mut tron = st.entries[0].clone();
        tron.chain = "tron".into();
        tron.address = "TMVQGm1qAQYVdetCeGRRkTWYYrLXuHK2HC".into();
        tron.utxos.clear();
        st.entries.push(tron);
        use ed25519_dalek::Signer;
        st.signature = ed25519_dalek::SigningKey::from_bytes(&seed)
            .sign(&st.signing_message())
            .to_bytes();
        let r = check_reserves_value(&att, &st.to_json(), &key, "");
        let nc = r["not_checked"].to_string();
        assert!(
            nc.contains("the holdings on TRON and Solana") && nc.contains("UNVERIFIED"),
            "{r}"
        );
    }

    fn att_json(att: &str) -> String {
        por_core::attestation::Attestation::from_json("a", att.as_bytes())
            .unwrap()
            .to_json()
    }

    fn resign(att: &str, seed: &[u8; 32]) -> String {
        use ed25519_dalek::Signer;
        let mut a = por_core::attestation::Attestation::from_json("a", att.as_bytes()).unwrap();
        let k = ed25519_dalek::SigningKey::from_bytes(seed);
        a.public_key = k.verifying_key().to_bytes();
        a.signature = k.sign(&a.signing_message()).to_bytes();
        a.to_json()
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

/// Checks a proof file another exchange published (OKX, Bybit, MEXC, Bitget, BitMEX), as
/// `por-verify published` does: `files` is a JSON array of `{"name", "text"}` (OKX v2 takes
/// the customer's file and the tree listing), `root` the root the exchange publishes for
/// everyone (empty when the customer has none: the result is then "unverified"). Returns
/// `{"schema_version", "code", "result", "exit_code", "summary", "format", "balances", "root",
/// "totals", "checks", "failures", "weaknesses": [{code, meaning, detail}]}`, and the code's
/// `meaning`, `evidence`, `evidence_words` and `next_step` when it is not a pass.
#[wasm_bindgen]
pub fn check_published(
    files: &str,
    format: &str,
    root: &str,
    user_id: &str,
    nonce: &str,
) -> String {
    check_published_value(files, format, root, user_id, nonce).to_string()
}

/// The same as [`check_published`], as a JSON value (for tests on the host).
pub fn check_published_value(
    files: &str,
    format: &str,
    root: &str,
    user_id: &str,
    nonce: &str,
) -> Value {
    use por_core::published::{check, parse_root, verdict, Format, Given, Input};
    let bad = |m: String| failure(&por_core::Error::input(m), "NOT VERIFIED");
    let list: Vec<(String, String)> = match serde_json::from_str::<Vec<Value>>(files) {
        Ok(v) => v
            .iter()
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("file").to_string(),
                    f["text"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect(),
        Err(_) => return bad("choose the proof file your exchange gave you".into()),
    };
    if list.is_empty() {
        return bad("choose the proof file your exchange gave you".into());
    }
    let format = if format.is_empty() {
        None
    } else {
        match Format::parse(format) {
            Ok(f) => Some(f),
            Err(m) => return bad(m),
        }
    };
    let root = if root.trim().is_empty() {
        None
    } else {
        match parse_root(root) {
            Ok(r) => Some(r),
            Err(m) => return bad(m.replace("--root: ", "the root: ")),
        }
    };
    let given = Given {
        user_id: (!user_id.trim().is_empty()).then(|| user_id.trim().to_string()),
        nonce: (!nonce.trim().is_empty()).then(|| nonce.trim().to_string()),
        layout: None,
        asset_count: None,
    };
    let inputs: Vec<Input<'_>> = list
        .iter()
        .map(|(n, t)| Input { name: n, text: t })
        .collect();
    let c = match check(&inputs, format, &given) {
        Ok(c) => c,
        Err(e) => return bad(e.0),
    };
    let v = verdict(&c, root.as_deref());
    let amounts = |v: &[(String, por_core::published::decimal::Decimal)]| -> Vec<Value> {
        v.iter()
            .map(|(a, d)| json!({"symbol": a, "amount": d.to_string()}))
            .collect()
    };
    let mut out = json!({
        "schema_version": JSON_SCHEMA_VERSION, "code": v.code.as_str(),
        "exit_code": v.code.exit_code(),
        "result": match v.code.exit_code() { 0 => "pass", 1 => "fail", _ => "unverified" },
        "summary": format!("{}: {}", match v.code.exit_code() { 0 => "VERIFIED", 1 => "NOT VERIFIED", _ => "UNVERIFIED" }, v.message),
        "format": c.format.map(Format::name), "balances": amounts(&c.balances), "root": c.root,
        "totals": amounts(&c.totals), "checks": c.held,
        "failures": c.failures.iter().map(|f| f.message.clone()).collect::<Vec<_>>(),
        "weaknesses": c.weaknesses.iter().map(|w| json!({"code": w.weakness.code(), "meaning": w.weakness.meaning(), "detail": w.detail})).collect::<Vec<_>>(),
    });
    if v.code.exit_code() != 0 {
        out["meaning"] = json!(v.code.meaning());
        out["evidence"] = json!(v.code.evidence().as_str());
        out["evidence_words"] = json!(v.code.evidence().words());
        out["next_step"] = json!(match v.code {
            Code::PublishedRootNotCompared => {
                "type the root the exchange or its auditor publishes for everyone for this round, and check again"
            }
            c => c.next_step(),
        });
    }
    out
}
