//! Stable codes for every outcome a check can have, with the words a customer acts on.
//!
//! A program reading `--json` and a test asserting a result both need a name that does not
//! change when the prose is improved: `proof.root_mismatch` stays `proof.root_mismatch`. Each
//! code fixes its exit status (0, 1, 2 or 3), whether it is evidence against the exchange, what
//! it means and what to do next. spec/outcomes.md lists the same table; a unit test checks
//! that the two agree word for word, so the spec cannot drift from what the tools print.
//!
//! "Evidence" is three-valued because that is what a customer needs to know before going
//! public: a signed attestation or a public chain contradicts the exchange for anyone who
//! checks ([`Evidence::Yes`]); an inclusion proof is not signed, so a proof that does not fold
//! convinces only the customer who got it from the exchange ([`Evidence::OnlyToYou`]); a
//! mix-up of files or an unreachable node says nothing about the exchange ([`Evidence::No`]).

use std::fmt;

/// Whether an outcome is evidence against the exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Evidence {
    /// Not evidence: a pass, a mix-up of files, or something not checked.
    No,
    /// Evidence only to the customer: the files involved are not signed by the exchange.
    OnlyToYou,
    /// Evidence anyone can check: signed by the exchange, or on a public chain.
    Yes,
}

impl Evidence {
    /// The name used in `--json` and the spec's table.
    pub fn as_str(self) -> &'static str {
        match self {
            Evidence::No => "no",
            Evidence::OnlyToYou => "only_to_you",
            Evidence::Yes => "yes",
        }
    }

    /// The customer's words.
    pub fn words(self) -> &'static str {
        match self {
            Evidence::No => "no",
            Evidence::OnlyToYou => {
                "only to you: the proof is not signed, so keep it with the signed attestation and the exchange's \
                 message that delivered it"
            }
            Evidence::Yes => {
                "yes: it rests on what the exchange signed or on a public chain, so anyone can check it"
            }
        }
    }
}

macro_rules! codes {
    ($( $(#[$doc:meta])* $v:ident = $name:literal, $exit:literal, $ev:ident, $meaning:literal, $next:literal; )*) => {
        /// A stable outcome code (spec/outcomes.md).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $( $(#[$doc])* $v, )* }

        impl Code {
            /// Every code, in the spec's order.
            pub const ALL: &'static [Code] = &[$(Code::$v),*];

            /// The stable name, as in `--json` and spec/outcomes.md.
            pub fn as_str(self) -> &'static str { match self { $(Code::$v => $name,)* } }

            /// The process exit code of a run whose outcome is this code.
            pub fn exit_code(self) -> i32 { match self { $(Code::$v => $exit,)* } }

            /// Whether it is evidence against the exchange.
            pub fn evidence(self) -> Evidence { match self { $(Code::$v => Evidence::$ev,)* } }

            /// What it means, for a customer.
            pub fn meaning(self) -> &'static str { match self { $(Code::$v => $meaning,)* } }

            /// What to do next.
            pub fn next_step(self) -> &'static str { match self { $(Code::$v => $next,)* } }
        }
    };
}

codes! {
    /// Everything checked holds.
    Ok = "ok", 0, No,
        "everything this run checked holds",
        "keep the files; check again next month";
    /// `--offline`: signatures checked, balances not.
    OkSignaturesOnly = "ok.signatures_only", 0, No,
        "the signatures hold, but no balance was checked on chain",
        "run again with your own node for each chain (--node CHAIN=URL) to check the balances";
    /// A passed check of an attestation's signature.
    SignatureValid = "attestation.signature_valid", 0, No,
        "the attestation is signed by the exchange's key",
        "-";
    /// The attestation's fingerprint, to compare.
    Fingerprint = "attestation.fingerprint", 0, No,
        "the fingerprint every customer of this month must see alike",
        "compare it with the one the exchange and independent mirrors publish";
    /// A passed inclusion.
    Included = "proof.included", 0, No,
        "your balances are in the tree whose root and totals the exchange signed",
        "compare the balances shown with your account at the snapshot time";
    /// A passed history check (genesis, listing, anchors, links).
    HistoryHolds = "history.holds", 0, No,
        "this month sits in the one history the exchange publishes",
        "-";
    /// A passed reserves check (statement, binding, proof of control, balance, snapshot).
    ReservesHold = "reserves.holds", 0, No,
        "this part of the reserves statement holds",
        "-";
    /// The run's memory was updated.
    Remembered = "store.remembered", 0, No,
        "your store remembers the key, the genesis and this attestation, so a later change is noticed",
        "keep your store (back it up with the rest of your files)";
    /// Another exchange's file folds to the root the customer gave.
    PublishedVerified = "published.verified", 0, No,
        "your balances are in the tree whose root you gave, the root the exchange published for everyone; the format's weaknesses are listed with it",
        "keep the file; compare the balances shown with your account at the snapshot time";
    /// Another passed check.
    Passed = "check.passed", 0, No,
        "this check holds",
        "-";

    /// The attestation's signature does not verify.
    SignatureInvalid = "attestation.signature_invalid", 1, No,
        "the attestation file was changed after signing, or was not signed by the key it names",
        "download the attestation again from the exchange's own page; if that copy fails too, it is not the exchange's";
    /// Signed by another key than the one given.
    WrongKey = "attestation.wrong_key", 1, No,
        "the attestation is signed by a key other than the one you gave",
        "check that the key you gave is this exchange's, from its page and from mirrors; then run again";
    /// Pinned key replaced without a signed handover.
    KeyChanged = "key.changed", 1, No,
        "the attestation is signed by a new key, and no handover signed by the key you trust leads to it",
        "ask the exchange why; give its history (--history) if you skipped months; re-pin only the key that signed, after checking its announcement";
    /// One key, two exchange names.
    KeyOtherName = "key.other_name", 1, No,
        "the key is pinned for another exchange name",
        "check you have the right exchange's files; if it really renamed itself, re-pin knowingly with the key that signed";
    /// A matching proof does not fold to the signed root.
    RootMismatch = "proof.root_mismatch", 1, OnlyToYou,
        "this proof names your id and this attestation, but it does not lead to the root the exchange signed: your balances are not shown to be in the signed tree",
        "keep the proof with the signed attestation as evidence, and ask the exchange to explain";
    /// The tree's totals from the proof differ from the signed totals.
    TotalsMismatch = "proof.totals_mismatch", 1, OnlyToYou,
        "the sums this proof adds up to are not the totals the exchange signed",
        "keep the proof with the signed attestation as evidence, and ask the exchange to explain";
    /// A proof whose path cannot be right (overflow, wrong widths or length).
    InvalidPath = "proof.invalid_path", 1, OnlyToYou,
        "this proof's path is not one the signed tree can have",
        "keep the proof with the signed attestation as evidence, and ask the exchange for a correct proof";
    /// Two signed attestations for one period, or one key handing over twice.
    Equivocation = "history.equivocation", 1, Yes,
        "the exchange signed two different versions of one month (or of one key handover): different customers can be shown different books",
        "keep the evidence files the tool wrote, and publish them or send them to a journalist, a regulator or an auditor";
    /// The history's genesis differs from the one pinned or given.
    Fork = "history.fork", 1, Yes,
        "this attestation starts its history at another genesis than the one you trust: a second, separate history",
        "compare the genesis with the exchange's page and mirrors; keep both attestations as evidence";
    /// The published history omits or misplaces an attestation.
    NotListed = "history.not_listed", 1, Yes,
        "the published history does not list this attestation, or one you verified before, where it is signed to be",
        "keep the attestation and the history as evidence, and compare the history with mirrors";
    /// The history fails its own checks.
    HistoryInvalid = "history.invalid", 1, Yes,
        "the exchange's history log is not consistent with the documents it lists",
        "keep the history and its documents as evidence, and ask the exchange to explain";
    /// The snapshot time is later than now.
    FutureSnapshot = "history.future_snapshot", 1, No,
        "the attestation's snapshot time is later than your computer's clock",
        "check your clock; if it is right, the exchange dated its snapshot in the future: ask it why";
    /// Anchors missing or contradicting the history.
    AnchorInvalid = "anchor.invalid", 1, Yes,
        "the Bitcoin anchors do not commit to this history in time, so the exchange could show others another history",
        "keep the history as evidence, and compare it with mirrors";
    /// A superseded reserves statement.
    StatementSuperseded = "reserves.statement_superseded", 1, No,
        "this reserves statement is not the latest the exchange's history lists for the month",
        "get the latest statement from the exchange's page and run again";
    /// The statement's own checks (signature, citation, snapshot time).
    StatementInvalid = "reserves.statement_invalid", 1, OnlyToYou,
        "the reserves statement is not validly signed for this attestation, or its snapshot is not in the period",
        "download the statement again from the exchange's page; if that copy fails too, keep it as evidence";
    /// A proof of control that does not verify.
    ControlInvalid = "reserves.control_invalid", 1, Yes,
        "the exchange lists a reserve address whose signature does not prove control of it",
        "keep the statement as evidence; the address does not count for the exchange";
    /// A binding of an asset to a chain that does not hold.
    BindingUnconfirmed = "reserves.binding_unconfirmed", 1, Yes,
        "the statement counts coins on a chain or contract that is not the asset it claims",
        "keep the statement as evidence; those coins do not count for the asset";
    /// A node contradicts a claimed balance.
    BalanceMismatch = "reserves.balance_mismatch", 1, Yes,
        "your node shows a different balance, or a different snapshot block, than the exchange claims",
        "keep the statement as evidence; check with a second node if you doubt yours";
    /// An asset's verified reserves are below its liabilities.
    BalanceShort = "reserves.balance_short", 1, Yes,
        "for at least one asset, the reserves verified on chain are less than what the exchange owes its customers",
        "keep the attestation and statement as evidence; consider withdrawing that asset";
    /// Custody below the threshold the user set.
    CustodyShort = "reserves.custody_short", 1, Yes,
        "the reserves are not held the way you asked (--min-multisig-share, --min-declared-cold-share)",
        "keep the statement; decide whether this custody is acceptable to you";
    /// The auditor's recomputation disagrees.
    AuditMismatch = "audit.mismatch", 1, Yes,
        "the exchange's private data does not produce what it signed",
        "keep the findings file as evidence and report it";
    /// Another exchange's file does not add up under its own rules.
    PublishedCheckFailed = "published.check_failed", 1, OnlyToYou,
        "the exchange's file does not add up under its own published rules (a hash, a sum or a balance); the file is not signed, so this is your finding, not evidence others can check",
        "keep the file with the page and the date you downloaded it, and ask the exchange to explain";
    /// A negative balance or sum in another exchange's file.
    PublishedNegative = "published.negative_sum", 1, OnlyToYou,
        "the exchange's file has a negative balance or sum on your path: an exchange can lower its totals so; the file is not signed, so this is your finding, not evidence others can check",
        "keep the file with the page and the date you downloaded it, and ask the exchange which accounts are negative and why";
    /// Another exchange's file folds to another root than the one given.
    PublishedRootMismatch = "published.root_mismatch", 1, OnlyToYou,
        "your file folds to another root than the one you gave: the tree you were shown is not the one published for everyone",
        "check that you gave the root of the same round; if so, keep the file and ask the exchange to explain";
    /// Another failed check.
    Failed = "check.failed", 1, No,
        "a check failed",
        "read the message above: it names the file and the field";

    /// A file cannot be read, or is not in its format.
    InputInvalid = "input.invalid", 2, No,
        "a file or flag could not be used: nothing was checked",
        "read the message: it names the file, the line or field and what was expected";
    /// No key known for the exchange.
    NoKey = "input.no_key", 2, No,
        "no key is pinned for this exchange yet",
        "give --exchange-key, taken from the exchange's page and compared with mirrors";
    /// The proof is someone else's, or the id was typed differently.
    OtherUser = "proof.other_user", 2, No,
        "this proof is for another user id than the one you typed",
        "check the id you typed, exactly as the exchange writes it, and that this is your proof";
    /// The proof is for another exchange, period or mode than the attestation.
    OtherAttestation = "proof.other_attestation", 2, No,
        "this proof belongs to another attestation (another month, exchange or kind of tree)",
        "give the attestation of the month the proof is for, or ask the exchange for this month's proof";

    /// Something the verdict needs was not checked.
    NotChecked = "check.incomplete", 3, No,
        "not everything needed was checked; nothing failed",
        "run again with what is missing (a node for each chain, --node CHAIN=URL)";
    /// Reserves not checked on chain (no node, unsettled, off chain).
    ReservesNotChecked = "reserves.not_checked", 3, No,
        "some reserves could not be checked on chain (no node, a snapshot not yet settled, held off chain, or on a chain no node can answer at a snapshot: TRON, Solana)",
        "run again with your own node for each chain, or later once the snapshot has settled; reserves on TRON and Solana cannot be checked yet: take them as the exchange's word only";
    /// Another exchange's file folds, but to no root the customer gave.
    PublishedRootNotCompared = "published.root_not_compared", 3, No,
        "your file folds to a root, but you gave no root to compare it with: you could have been shown a tree of your own",
        "run again with --root HEX, the root the exchange or its auditor publishes for everyone for this round";
    /// Another exchange's reserve file: what can be checked holds, the rest cannot be.
    PublishedReservesNotChecked = "published.reserves_not_checked", 3, No,
        "the signatures this tool can check hold, but the balances were not read on chain and some rows could not be checked; the file carries no liabilities, so it cannot show solvency",
        "take the rows not checked as the exchange's word only; compare the totals with the liabilities the exchange publishes for the same round";
    /// Anchors not deep enough yet.
    AnchorPending = "anchor.pending", 3, No,
        "the month's Bitcoin anchor is not yet deep enough to be final",
        "check again later";
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One typed result of a check: its code and the words naming what exactly was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The stable code.
    pub code: Code,
    /// What was found, with the file, field and values.
    pub message: String,
    /// A finer name within the code, when one command has many kinds of one outcome (the
    /// audit's `missing_customer`, `balance_mismatch`, …).
    pub kind: Option<String>,
}

impl Finding {
    /// A finding.
    pub fn new(code: Code, message: impl Into<String>) -> Finding {
        Finding {
            code,
            message: message.into(),
            kind: None,
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// The findings' messages joined by "; ", as one verdict line says them.
pub fn joined(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join("; ")
}

/// A [`Finding`] with a message formatted as by `format!`: `finding!(Code::Fork, "{at}: ...")`.
#[macro_export]
macro_rules! finding {
    ($code:expr, $($t:tt)*) => {
        $crate::outcome::Finding::new($code, format!($($t)*))
    };
}

/// The version of the `--json` output's shape: a reader refuses a version it does not know.
pub const JSON_SCHEMA_VERSION: u32 = 1;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_well_formed() {
        let mut names: Vec<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        for n in &names {
            assert!(
                n.chars()
                    .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "{n}"
            );
        }
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
    }

    #[test]
    fn a_pass_is_never_evidence_and_mixups_are_not_failures() {
        for c in Code::ALL {
            assert!((0..=3).contains(&c.exit_code()));
            if c.exit_code() != 1 {
                assert_eq!(c.evidence(), Evidence::No, "{c}");
            }
        }
        assert_eq!(Code::OtherUser.exit_code(), 2);
        assert_eq!(Code::OtherAttestation.exit_code(), 2);
        assert_eq!(Code::RootMismatch.exit_code(), 1);
    }

    /// spec/outcomes.md lists every code with the same exit status, evidence, meaning and
    /// next step as this table, in the same order.
    #[test]
    fn the_spec_table_is_this_table() {
        let spec = include_str!("../../spec/outcomes.md");
        let rows: Vec<Vec<String>> = spec
            .lines()
            .filter(|l| l.starts_with("| `"))
            .map(|l| {
                l.trim_matches('|')
                    .split(" | ")
                    .map(|c| c.trim().to_string())
                    .collect()
            })
            .collect();
        assert_eq!(rows.len(), Code::ALL.len(), "one row per code");
        for (row, c) in rows.iter().zip(Code::ALL) {
            let want = [
                format!("`{}`", c.as_str()),
                c.exit_code().to_string(),
                c.evidence().as_str().to_string(),
                c.meaning().to_string(),
                c.next_step().to_string(),
            ];
            assert_eq!(row.as_slice(), &want[..], "spec/outcomes.md row for {c}");
        }
    }
}
