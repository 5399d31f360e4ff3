//! Who the exchange is to a customer: its key and its history's genesis, pinned on first use
//! and compared ever after; and the links between the months a customer verified.
//!
//! Policy lives here, not in the binary, so every command (`proof`, `reserves`, `history`)
//! decides the same way and the rules have unit tests:
//!
//! - **Key.** The key trusted is the one pinned in the store, else the one given. An
//!   attestation signed by another key is accepted only through handovers signed by the old
//!   key: its own rotation section, or the rotations the exchange's history lists, followed
//!   from the trusted key across months the customer skipped; or when the customer verified
//!   that very attestation before. One old key signing two different handovers is
//!   EQUIVOCATION. Anything else is KEY CHANGED, with the re-pin command naming the key that
//!   signed.
//! - **Name.** One key, one exchange name: a key the store knows under another name is
//!   refused (a renamed or look-alike exchange would escape the memory of what was verified).
//! - **Genesis.** The outpoint the history's first anchor spends, signed in every attestation.
//!   Given (`--genesis`) or pinned, a different one is FORK; neither, it is pinned on first use
//!   and printed for the customer to compare with the exchange's page and mirrors.
//! - **Links.** Months verified in any order must form one chain: the attestation a month
//!   signs as its predecessor is the one verified for the month before; two attestations never
//!   follow the same one; the log sizes grow with the periods.

use crate::attestation::Attestation;
use crate::error::{Error, Result};
use crate::hash::Hash;
use crate::history::{listed_rotations, History, Kind};
use crate::memory::{GenesisPin, Memory, Pinned, RotationSeen, Seen};
use crate::outcome::{Code, Finding};
use crate::outpoint::Outpoint;

/// How a key was pinned on first use.
pub const HOW_FIRST_USE: &str = "first use";
/// How a key was pinned through a handover signed by the old key.
pub const HOW_ROTATION: &str = "rotation signed by the old key";
/// How a key was pinned by the user's `pin --confirm`.
pub const HOW_MANUAL: &str = "re-pinned by the user";

/// The key chosen for an attestation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyChoice {
    /// The key that verifies it.
    pub key: [u8; 32],
    /// Words for the report: why this key.
    pub words: String,
    /// How to pin the attestation's key once it verifies, when the pin moves or starts.
    pub pin: Option<&'static str>,
    /// The handovers followed to reach the key, to remember.
    pub rotations: Vec<RotationSeen>,
}

fn hx(k: &[u8; 32]) -> String {
    hex::encode(k)
}

/// Chooses the key for `att`. `given` is `--exchange-key`; `pinned` the store's entry for
/// `att.exchange`; `store` whether there is a store at all; `other_name` the exchange another
/// of the keys involved is known under in the store; `history` the exchange's history, whose
/// listed rotations may be followed. Errors: exit 2 when no key is known, exit 1 for KEY
/// CHANGED, another name, or EQUIVOCATION of rotations.
pub fn choose_key(
    given: Option<[u8; 32]>,
    att: &Attestation,
    pinned: Option<&Pinned>,
    store: bool,
    other_name: Option<&str>,
    history: Option<&History>,
) -> Result<KeyChoice> {
    if let Some(other) = other_name {
        // The re-pin names the key that signed the attestation: pinning the key given (the
        // other exchange's) would only repeat the refusal.
        let key = att.public_key;
        return Err(Error::coded(Code::KeyOtherName, format!(
            "this key is pinned for the exchange {other:?}, but the attestation calls the exchange {:?}: the same \
             signer under another name escapes the memory of what you verified. If the exchange really renamed \
             itself, re-pin knowingly: {}",
            att.exchange,
            repin_words(&att.exchange, &key)
        )));
    }
    let start = match (pinned, given) {
        (Some(p), Some(g)) if g != p.key && g != att.public_key => {
            return Err(Error::coded(Code::WrongKey, format!(
                "the attestation is signed by {}, not by the key you gave ({}); the key pinned for {:?} is {}",
                hx(&att.public_key),
                hx(&g),
                att.exchange,
                hx(&p.key)
            )))
        }
        (Some(p), _) => p.key,
        (None, Some(g)) => g,
        (None, None) => {
            return Err(Error::coded(Code::NoKey, format!(
                "no key is pinned for {:?} yet: {} this first time, from a source you trust (the exchange's \
                 website, a mirror)",
                att.exchange,
                if cfg!(feature = "fs") {
                    "give --exchange-key HEX"
                } else {
                    "type the exchange's key"
                }
            )))
        }
    };
    let first = pinned.is_none() && store;
    if att.public_key == start {
        let words = match pinned {
            Some(p) => format!("the key pinned for {:?} on {} ({})", att.exchange, p.pinned_at, p.how),
            None if store => "pinned on first use: later runs need no --exchange-key, and another key is refused \
                              unless the old key signs the handover"
                .into(),
            None => "the key you gave (not pinned: --no-store)".into(),
        };
        return Ok(KeyChoice {
            key: start,
            words,
            pin: first.then_some(HOW_FIRST_USE),
            rotations: Vec::new(),
        });
    }
    let known: &[RotationSeen] = pinned.map_or(&[], |p| p.rotations.as_slice());
    if let Some(path) = handover_path(&start, att, history)? {
        for r in &path {
            if let Some(k) = known
                .iter()
                .find(|k| k.old_key == r.old_key && k.new_key != r.new_key)
            {
                return Err(Error::coded(Code::Equivocation, format!(
                    "EQUIVOCATION: key {} handed the exchange over twice: to {} for {} (which you followed before) and \
                     to {} for {}",
                    hx(&r.old_key),
                    hx(&k.new_key),
                    k.period,
                    hx(&r.new_key),
                    r.period
                )));
            }
        }
        let how = if path.len() == 1 && att.rotation.is_some() {
            "in this attestation's signed rotation".to_string()
        } else {
            format!(
                "through {} rotation(s) the history lists, each signed by the key before",
                path.len()
            )
        };
        return Ok(KeyChoice {
            key: att.public_key,
            words: format!(
                "a NEW KEY, handed over by {} {how}",
                if pinned.is_some() {
                    "the pinned key"
                } else {
                    "the key you gave"
                }
            ),
            pin: store.then_some(HOW_ROTATION),
            rotations: path,
        });
    }
    let digest = att.digest().0;
    if pinned.is_some_and(|p| p.seen.iter().any(|s| s.digest == digest)) {
        return Ok(KeyChoice {
            key: att.public_key,
            words: "the key that signed it when you verified it before".into(),
            pin: None,
            rotations: Vec::new(),
        });
    }
    let Some(p) = pinned else {
        // Nothing pinned: the key given is the key, and the signature check says who signed.
        return Ok(KeyChoice {
            key: start,
            words: "the key you gave".into(),
            pin: store.then_some(HOW_FIRST_USE),
            rotations: Vec::new(),
        });
    };
    let since = format!(" on {} ({})", p.pinned_at, p.how);
    Err(Error::coded(Code::KeyChanged, format!(
        "KEY CHANGED: you trust {} for {:?}{since}, but this attestation is signed by {} and no handover signed by \
         the key you trust leads to it. If you skipped a month in which the exchange rotated its key, give the \
         exchange's history ({}): the handovers it lists are followed. If the exchange announced a new key because \
         its old one was lost or stolen, check the announcement, then re-pin knowingly: {}",
        hx(&start),
        att.exchange,
        hx(&att.public_key),
        if cfg!(feature = "fs") {
            "--history history.json"
        } else {
            "its history.json, in the history field"
        },
        repin_words(&att.exchange, &att.public_key)
    )))
}

/// How to re-pin `key` for `exchange`: the command on the command line; on the browser page
/// (built without `fs`), its button, because a customer there has no command to type.
fn repin_words(exchange: &str, key: &[u8; 32]) -> String {
    if cfg!(feature = "fs") {
        format!("por-verify pin --exchange {exchange:?} --key {}", hx(key))
    } else {
        format!("the button \"Trust the key {}\" below", &hx(key)[..16])
    }
}

/// The handovers from `start` to `att`'s key: the attestation's own rotation, else the
/// rotations the history lists up to the attestation's entry, followed in order. Two listed
/// rotations by one old key to different keys are EQUIVOCATION.
fn handover_path(
    start: &[u8; 32],
    att: &Attestation,
    history: Option<&History>,
) -> Result<Option<Vec<RotationSeen>>> {
    if let Some(rot) = &att.rotation {
        if rot.verify(att, start).is_ok() {
            return Ok(Some(vec![RotationSeen {
                old_key: *start,
                new_key: att.public_key,
                period: att.period.clone(),
            }]));
        }
    }
    let Some(h) = history else {
        return Ok(None);
    };
    if h.exchange != att.exchange {
        return Ok(None);
    }
    let digest = att.digest();
    let until = h
        .entries
        .iter()
        .position(|e| e.kind == Kind::Attestation && e.digest == digest)
        .unwrap_or(h.entries.len());
    let listed = listed_rotations(h);
    for (n, (i, old, new)) in listed.iter().enumerate() {
        if let Some((j, _, other)) = listed[..n].iter().find(|(_, o, w)| o == old && w != new) {
            return Err(Error::coded(Code::Equivocation, format!(
                "EQUIVOCATION: the history lists two handovers by key {}: to {} (entry {j}) and to {} (entry {i})",
                hx(old),
                hx(other),
                hx(new)
            )));
        }
    }
    let mut key = *start;
    let mut path = Vec::new();
    for (i, old, new) in listed.into_iter().filter(|(i, _, _)| *i <= until) {
        if old == key {
            path.push(RotationSeen {
                old_key: old,
                new_key: new,
                period: h.entries[i].period.clone(),
            });
            key = new;
        }
    }
    Ok((key == att.public_key && !path.is_empty()).then_some(path))
}

/// Who signed an attestation, as every command decides it: the key chosen ([`choose_key`]) with
/// its signature checked, and the genesis and clock checks, whose failures the caller records
/// (the run goes on to report the customer's inclusion).
#[derive(Debug)]
pub struct Identified {
    /// The key choice (what to pin and remember once the run commits).
    pub choice: KeyChoice,
    /// The verifying key, its signature over the attestation checked.
    pub key: ed25519_dalek::VerifyingKey,
    /// Words for the report on the genesis, when it matches.
    pub genesis: Option<String>,
    /// Failures: FORK of the genesis, a snapshot time ahead of the clock.
    pub failures: Vec<Finding>,
}

/// The one resolver of `proof`, `reserves` and `history`'s customers: the exchange's identity
/// for `att` against what was given (`--exchange-key`, `--genesis`), the store and the history.
/// Errors (exit 1 or 2) stop the command before any other check of `att`.
pub fn identify(
    att: &Attestation,
    given_key: Option<[u8; 32]>,
    given_genesis: Option<Outpoint>,
    store: Option<&Memory>,
    history: Option<&History>,
    now: i64,
) -> Result<Identified> {
    let pinned = store.and_then(|s| s.pinned(&att.exchange));
    let other = store.and_then(|s| {
        [given_key, Some(att.public_key)]
            .iter()
            .flatten()
            .find_map(|k| s.other_name_of(k, &att.exchange))
    });
    let choice = choose_key(given_key, att, pinned, store.is_some(), other, history)?;
    let key = ed25519_dalek::VerifyingKey::from_bytes(&choice.key).map_err(|_| {
        Error::failed(format!(
            "the key {} is not a valid ed25519 key",
            hx(&choice.key)
        ))
    })?;
    att.verify_signature(&key)?;
    let mut failures = Vec::new();
    if let Some(why) = crate::history::future_snapshot(att, now) {
        failures.push(why);
    }
    let genesis = match check_genesis(
        att.history.genesis,
        given_genesis,
        pinned.map(|p| p.genesis).unwrap_or_default(),
        store.is_some(),
    ) {
        Ok(w) => Some(w),
        Err(f) => {
            failures.push(f);
            None
        }
    };
    Ok(Identified {
        choice,
        key,
        genesis,
        failures,
    })
}

/// Stages in the store what a verified attestation establishes: the pin (first use or a
/// handover), the handovers followed, the genesis; written only if the run commits.
pub fn stage(store: &mut Memory, att: &Attestation, choice: &KeyChoice, now: &str) {
    if let Some(how) = choice.pin {
        store.pin(&att.exchange, &att.public_key, how, now);
    }
    for r in &choice.rotations {
        store.record_rotation(&att.exchange, r.clone());
    }
    store.pin_genesis(&att.exchange, att.history.genesis);
}

/// Checks the genesis an attestation signs against the one given and the one pinned. Returns
/// words for the report, or the FORK (exit 1).
pub fn check_genesis(
    att_genesis: Option<Outpoint>,
    given: Option<Outpoint>,
    pinned: GenesisPin,
    store: bool,
) -> std::result::Result<String, Finding> {
    let show = |g: Option<Outpoint>| {
        g.map_or("none (the history is anchored nowhere)".to_string(), |g| {
            g.to_string()
        })
    };
    if let Some(g) = given {
        if att_genesis != Some(g) {
            return Err(crate::finding!(Code::Fork,
                "FORK: this attestation is of the history from genesis {}, not from the genesis you gave ({g}): \
                 another history signed by the same key",
                show(att_genesis)
            ));
        }
    }
    match pinned {
        GenesisPin::Pinned(p) if p != att_genesis => Err(crate::finding!(Code::Fork,
            "FORK: you pinned genesis {} for this exchange, but this attestation is of the history from {}: another \
             history signed by the same key",
            show(p),
            show(att_genesis)
        )),
        GenesisPin::Pinned(_) => Ok(format!("genesis {}: the one you pinned", show(att_genesis))),
        GenesisPin::Unknown if given.is_some() => Ok(format!("genesis {}: the one you gave", show(att_genesis))),
        GenesisPin::Unknown if !store => Ok(format!(
            "genesis {} (not pinned: --no-store); compare it with the exchange's page and independent mirrors",
            show(att_genesis)
        )),
        GenesisPin::Unknown => Ok(format!(
            "genesis {}: pinned on first use; compare it with the exchange's page and independent mirrors",
            show(att_genesis)
        )),
    }
}

/// What the memory says of an attestation whose signature verified, before it is remembered.
#[derive(Debug, Clone, Default)]
pub struct Recall {
    /// Another attestation remembered for the same period: its digest (the caller keeps both as
    /// evidence and reports [`equivocation`]).
    pub earlier: Option<[u8; 32]>,
    /// The links with the months remembered that do not hold ([`check_links`]).
    pub findings: Vec<Finding>,
    /// The months remembered, as (period, digest), for the history's check.
    pub seen: Vec<(String, Hash)>,
}

/// Compares `att` with what `memory` remembers of its exchange: the one decision `por-verify`
/// and the browser page both make before they remember a month.
pub fn recall(memory: &Memory, att: &Attestation) -> Recall {
    let seen = memory.seen(&att.exchange);
    let digest = att.digest().0;
    Recall {
        earlier: seen
            .iter()
            .find(|x| x.period == att.period && x.digest != digest)
            .map(|x| x.digest),
        findings: check_links(seen, att),
        seen: seen
            .iter()
            .map(|x| (x.period.clone(), Hash(x.digest)))
            .collect(),
    }
}

/// The finding for two signed attestations of one period, `earlier` remembered and `att` shown
/// now; `evidence` says where both are kept.
pub fn equivocation(att: &Attestation, earlier: &[u8; 32], evidence: &str) -> Finding {
    crate::finding!(
        Code::Equivocation,
        "EQUIVOCATION: you verified another attestation for {} before ({}); two signed attestations for one \
         period prove the exchange shows different customers different books. {evidence}",
        att.period,
        Hash(*earlier)
    )
}

/// Checks that `att` fits the months verified before (`seen`), in whatever order they were
/// verified: each failure is EQUIVOCATION (two books).
pub fn check_links(seen: &[Seen], att: &Attestation) -> Vec<Finding> {
    let digest = att.digest().0;
    let previous = att.history.previous.map(|h| h.0);
    let prev_period = crate::time::previous_period(&att.period);
    let mut bad = Vec::new();
    let show = |d: Option<[u8; 32]>| d.map_or("no attestation".to_string(), |d| Hash(d).to_hex());
    for s in seen.iter().filter(|s| s.digest != digest) {
        if s.period == att.period {
            continue; // two for one period: the caller writes the evidence
        }
        if prev_period.as_deref() == Some(s.period.as_str()) && previous != Some(s.digest) {
            bad.push(crate::finding!(Code::Equivocation,
                "EQUIVOCATION: this attestation follows {} for {}, but you verified {} for {}: the exchange keeps two \
                 books",
                show(previous),
                s.period,
                Hash(s.digest).to_hex(),
                s.period
            ));
        }
        if crate::time::previous_period(&s.period).as_deref() == Some(att.period.as_str())
            && s.previous != Some(digest)
        {
            bad.push(crate::finding!(Code::Equivocation,
                "EQUIVOCATION: the attestation for {} you verified before follows {} for {}, not this one ({}): the \
                 exchange keeps two books",
                s.period,
                show(s.previous),
                att.period,
                Hash(digest).to_hex()
            ));
        }
        if previous.is_some() && s.previous == previous {
            bad.push(crate::finding!(Code::Equivocation,
                "EQUIVOCATION: this attestation for {} and the one for {} you verified before both follow {}: two \
                 histories part there",
                att.period,
                s.period,
                show(previous)
            ));
        }
        if previous == Some(s.digest) && s.period >= att.period {
            bad.push(crate::finding!(
                Code::Equivocation,
                "EQUIVOCATION: this attestation for {} follows your attestation for the later {}",
                att.period,
                s.period
            ));
        }
        let ordered = (s.period < att.period) == (s.log_size < att.history.log_size);
        if !ordered {
            bad.push(crate::finding!(Code::Equivocation,
                "EQUIVOCATION: this attestation for {} signs a log of {} entries, but the one for {} you verified \
                 before signs {}: the logs are not one growing history",
                att.period, att.history.log_size, s.period, s.log_size
            ));
        }
    }
    bad
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::{rotation_message, HistoryLink, KeyRotation};
    use ed25519_dalek::{Signer, SigningKey};

    fn key(seed: u8) -> SigningKey {
        SigningKey::from_bytes(&[seed; 32])
    }

    fn att(period: &str, k: &SigningKey, previous: Option<Hash>, log_size: u64) -> Attestation {
        let mut a = Attestation {
            exchange: "Ex".into(),
            period: period.into(),
            snapshot_time: format!("{period}-15T00:00:00Z"),
            assets: vec![],
            tree_height: 4,
            root_hash: Hash([7; 32]),
            liabilities: vec![],
            bindings: vec![],
            history: HistoryLink {
                previous,
                log_size,
                log_root: Hash([0; 32]),
                genesis: None,
                restart: None,
            },
            rotation: None,
            hidden: None,
            public_key: k.verifying_key().to_bytes(),
            signature: [0; 64],
        };
        a.signature = k.sign(&a.signing_message()).to_bytes();
        a
    }

    fn rotate(a: &mut Attestation, old: &SigningKey) {
        let m = rotation_message(&a.exchange, &a.period, &a.public_key);
        a.rotation = Some(KeyRotation {
            old_key: old.verifying_key().to_bytes(),
            signature: old.sign(&m).to_bytes(),
        });
    }

    fn pinned(k: &SigningKey) -> Pinned {
        Pinned {
            exchange: "Ex".into(),
            key: k.verifying_key().to_bytes(),
            pinned_at: "2026-01-01T00:00:00Z".into(),
            how: HOW_FIRST_USE.into(),
            genesis: GenesisPin::Unknown,
            keys: vec![k.verifying_key().to_bytes()],
            manual_keys: vec![],
            rotations: vec![],
            seen: vec![],
        }
    }

    fn history_of(atts: &[&Attestation]) -> History {
        let mut h = History::new("Ex", None);
        for a in atts {
            let e = h.append(Kind::Attestation, &a.period, &a.digest(), &a.public_key);
            e.key_rotation = a.rotation.clone();
        }
        h
    }

    #[test]
    fn first_use_pins_and_a_pinned_key_verifies() {
        let k1 = key(1);
        let a = att("2026-01", &k1, None, 0);
        let c = choose_key(Some(a.public_key), &a, None, true, None, None).unwrap();
        assert_eq!((c.key, c.pin), (a.public_key, Some(HOW_FIRST_USE)));
        let p = pinned(&k1);
        let c = choose_key(None, &a, Some(&p), true, None, None).unwrap();
        assert_eq!((c.key, c.pin), (a.public_key, None));
        assert_eq!(
            choose_key(None, &a, None, true, None, None)
                .unwrap_err()
                .exit_code(),
            2
        );
    }

    #[test]
    fn a_rotation_across_a_skipped_month_is_followed_through_the_history() {
        let (k1, k2) = (key(1), key(2));
        let jan = att("2026-01", &k1, None, 0);
        let mut feb = att("2026-02", &k2, Some(jan.digest()), 1);
        rotate(&mut feb, &k1);
        let feb = {
            let mut f = feb.clone();
            f.signature = k2.sign(&f.signing_message()).to_bytes();
            f
        };
        let mar = att("2026-03", &k2, Some(feb.digest()), 2);
        let p = pinned(&k1);
        // Without the history, March alone is KEY CHANGED (exit 1), naming the key that signed.
        let e = choose_key(None, &mar, Some(&p), true, None, None).unwrap_err();
        assert_eq!(e.code(), Code::KeyChanged);
        assert_eq!(e.exit_code(), 1);
        assert!(repin_advice(e.message()).contains(&hex::encode(mar.public_key)[..16]));
        let h = history_of(&[&jan, &feb, &mar]);
        let c = choose_key(None, &mar, Some(&p), true, None, Some(&h)).unwrap();
        assert_eq!((c.key, c.pin), (mar.public_key, Some(HOW_ROTATION)));
        assert_eq!(c.rotations.len(), 1);
        // A customer who trusts a later key of the chain, and one who followed another handover
        // by k1 before (equivocation).
        let mut p2 = pinned(&k1);
        p2.rotations.push(RotationSeen {
            old_key: k1.verifying_key().to_bytes(),
            new_key: key(9).verifying_key().to_bytes(),
            period: "2026-02".into(),
        });
        let e = choose_key(None, &mar, Some(&p2), true, None, Some(&h)).unwrap_err();
        assert_eq!(e.code(), Code::Equivocation, "{}", e.message());
    }

    /// The advice after "re-pin knowingly: ": the command on the command line, the button on
    /// the page (core built without `fs`); either names the key to pin.
    fn repin_advice(message: &str) -> &str {
        message.split("re-pin knowingly: ").nth(1).unwrap_or("")
    }

    #[test]
    fn another_name_and_a_wrong_given_key_are_refused() {
        let k1 = key(1);
        let a = att("2026-01", &k1, None, 0);
        let e = choose_key(Some(a.public_key), &a, None, true, Some("Other"), None).unwrap_err();
        assert_eq!(e.code(), Code::KeyOtherName);
        // The re-pin advice names the key that signed, whatever key was given.
        let given = key(4).verifying_key().to_bytes();
        let e = choose_key(Some(given), &a, None, true, Some("Other"), None).unwrap_err();
        assert!(repin_advice(e.message()).contains(&hex::encode(a.public_key)[..16]));
        assert!(!e.message().contains(&hex::encode(given)));
        let p = pinned(&k1);
        let e = choose_key(
            Some(key(3).verifying_key().to_bytes()),
            &a,
            Some(&p),
            true,
            None,
            None,
        )
        .unwrap_err();
        assert_eq!(e.code(), Code::WrongKey);
    }

    #[test]
    fn genesis_is_pinned_and_compared() {
        let g = Outpoint::parse(&format!("{}:0", "11".repeat(32))).unwrap();
        let x = Outpoint::parse(&format!("{}:1", "22".repeat(32))).unwrap();
        assert!(check_genesis(Some(g), None, GenesisPin::Unknown, true)
            .unwrap()
            .contains("first use"));
        assert!(check_genesis(Some(g), None, GenesisPin::Pinned(Some(g)), true).is_ok());
        assert_eq!(
            check_genesis(Some(x), None, GenesisPin::Pinned(Some(g)), true)
                .unwrap_err()
                .code,
            Code::Fork
        );
        assert_eq!(
            check_genesis(Some(x), Some(g), GenesisPin::Unknown, true)
                .unwrap_err()
                .code,
            Code::Fork
        );
        assert!(check_genesis(None, None, GenesisPin::Pinned(Some(g)), true).is_err());
        assert!(check_genesis(Some(g), None, GenesisPin::Pinned(None), true).is_err());
    }

    #[test]
    fn months_link_in_either_order() {
        let k = key(1);
        let jan = att("2026-01", &k, None, 0);
        let feb = att("2026-02", &k, Some(jan.digest()), 1);
        let forged_jan = att("2026-01", &k, None, 0);
        let forged_jan = {
            let mut f = forged_jan;
            f.snapshot_time = "2026-01-16T00:00:00Z".into();
            f.signature = k.sign(&f.signing_message()).to_bytes();
            f
        };
        let seen = |a: &Attestation| Seen {
            period: a.period.clone(),
            digest: a.digest().0,
            previous: a.history.previous.map(|h| h.0),
            log_size: a.history.log_size,
            public_key: a.public_key,
        };
        assert!(check_links(&[seen(&jan)], &feb).is_empty());
        assert!(check_links(&[seen(&feb)], &jan).is_empty());
        let equivocation =
            |f: Vec<Finding>| !f.is_empty() && f.iter().all(|f| f.code == Code::Equivocation);
        // February verified first, then a January it does not follow.
        assert!(equivocation(check_links(&[seen(&feb)], &forged_jan)));
        // A second February following the same January.
        let other_feb = att("2026-03", &k, Some(jan.digest()), 1);
        assert!(equivocation(check_links(&[seen(&feb)], &other_feb)));
        // Log sizes that shrink as periods grow.
        let late = att("2026-05", &k, Some(Hash([5; 32])), 0);
        assert!(equivocation(check_links(&[seen(&feb)], &late)));
    }
}
