//! The SHA-256 sum-path engine: one fold for every exchange whose tree hashes text.
//!
//! OKX, Bybit, MEXC and Bitget differ only in data: how a parent's preimage is laid out (which
//! pieces, which separator), how its sums are written (cut to 8 places and trimmed, or kept at
//! exactly 8, or as Java's `BigDecimal` prints them), and how many hex digits of the hash they
//! keep. A [`Profile`] says all of that; a format's module only reads its file into a
//! [`SumPath`]. Adding an exchange's round is a new profile, not a new fold.
//!
//! What the fold establishes and what it reports as a failure (spec/published.md):
//! - each parent is recomputed from its two children (never taken from the file), its sums
//!   the children's sums added per asset under the profile's rule;
//! - a negative balance or sum anywhere on the path is a failure: it lets the exchange lower
//!   its totals (a negative sibling cancels a real customer's balance);
//! - a sum that overflows 128 bits is a failure, not a wrapped value;
//! - the folded hash and sums must equal the root the file names, when it names one.

use super::decimal::Decimal;
use sha2::{Digest, Sha256};

/// Which side of the parent a node is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The left child: first in the parent's preimage.
    Left,
    /// The right child.
    Right,
}

/// One piece of a parent's preimage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Fixed text (a separator).
    Text(String),
    /// The left child's hash, as hex text.
    LeftHash,
    /// The right child's hash, as hex text.
    RightHash,
    /// The parent's sums, written by [`SumsText`].
    Sums,
    /// The left child's sums (BitMEX binds each child's value, not only their total).
    LeftSums,
    /// The right child's sums.
    RightSums,
    /// The parent's height (leaves are 1), in decimal.
    Height,
    /// The parent's level counted from the root (the root is 1), in decimal (Bitget).
    Level,
}

/// How a list of per-asset sums becomes text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SumsText {
    /// The values in the profile's asset order, nothing between them (OKX, Bybit).
    Concat,
    /// `NAME:value` for each asset, sorted by name, joined by `,` (MEXC).
    SortedPairs,
    /// A JSON object `{"NAME":value,...}` in the profile's asset order; values quoted or not.
    Json {
        /// Whether each value is a JSON string.
        quoted: bool,
    },
}

/// How one sum is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberText {
    /// No trailing zeros (`0.1`, `3`, `0`): Go's decimal, Java's `stripTrailingZeros`.
    Trimmed,
    /// Exactly this many places (`0.00000000`): Java's `setScale(8).toPlainString()`.
    Fixed(u32),
    /// Java's `BigDecimal.toString()`: the scale kept, and `1E-8` below 10^-6 (Bitget's first
    /// serialisation).
    Java,
    /// With the scale the sum has, as Java's `BigDecimal.toString` writes a sum of two
    /// `BigDecimal`s (the larger scale of the two).
    Scaled,
}

/// An exchange's rules for one kind of tree (one round's, where rounds differ).
#[derive(Debug, Clone)]
pub struct Profile {
    /// The name in messages and `--json` (`okx-v1`, `bybit/Asset40V5`).
    pub name: String,
    /// The assets in the order the exchange hashes them.
    pub assets: Vec<String>,
    /// How many hex digits of SHA-256 are kept (64, or 32 and 16 where the exchange truncates).
    pub hex_digits: usize,
    /// The parent's preimage, in order.
    pub pieces: Vec<Piece>,
    /// How the sums are laid out.
    pub sums: SumsText,
    /// Places kept when two values are added (the rest cut towards zero); `None` keeps all.
    pub places: Option<u32>,
    /// How each sum is written.
    pub number: NumberText,
    /// Assets a parent holds at zero at least whenever it has a real right child (MEXC fills
    /// BTC, USDT, ETH and USDC so).
    pub zero_fill: Vec<String>,
    /// Whether an empty sibling hash means "no sibling": the parent then hashes the empty text
    /// in its place and carries its one child's sums (MEXC's last node of an odd row).
    pub blank_sibling: bool,
}

/// A node as the file gives it: its hash as written and its balances.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Hex, as written in the file (compared as the profile's digits, lower case).
    pub hash: String,
    /// One value per profile asset, in the profile's order; `None` where the node does not
    /// name the asset (which some exchanges hash differently from a zero).
    pub sums: Vec<Option<Decimal>>,
}

/// One step up: the sibling and where it stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// The sibling node.
    pub sibling: Node,
    /// The sibling's side.
    pub side: Side,
}

/// A customer's path: their leaf (hash already checked by the format), the siblings from the
/// bottom up, and the root the file names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumPath {
    /// The customer's leaf.
    pub leaf: Node,
    /// The siblings, leaf level first.
    pub steps: Vec<Step>,
    /// The root the file itself names, if any.
    pub root: Option<Node>,
}

/// What the fold found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FoldFailure {
    /// A negative value at `level` (0 = the customer's leaf, i = the i-th sibling).
    Negative {
        /// 0 for the leaf, the step's number (1-based) for a sibling.
        level: usize,
        /// The asset.
        asset: String,
        /// The value as written.
        value: String,
    },
    /// A sum past 128 bits or past the places a number can have.
    Overflow {
        /// The step (1-based).
        level: usize,
        /// The asset.
        asset: String,
    },
    /// The folded root hash is not the one the file names.
    RootHash {
        /// What the fold gives.
        folded: String,
        /// What the file says.
        named: String,
    },
    /// A folded total is not the one the file names for the root.
    RootSum {
        /// The asset.
        asset: String,
        /// What the fold gives.
        folded: String,
        /// What the file says.
        named: String,
    },
}

impl std::fmt::Display for FoldFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FoldFailure::Negative { level: 0, asset, value } => {
                write!(f, "your own {asset} balance is negative ({value})")
            }
            FoldFailure::Negative { level, asset, value } => write!(
                f,
                "path entry {level} has a negative {asset} sum ({value}): a negative sibling lowers the totals an exchange shows"
            ),
            FoldFailure::Overflow { level, asset } => write!(
                f,
                "the {asset} sums at path entry {level} exceed what this tool adds exactly (128 bits of digits)"
            ),
            FoldFailure::RootHash { folded, named } => write!(
                f,
                "your path folds to root {folded}, but the file names root {named}"
            ),
            FoldFailure::RootSum { asset, folded, named } => write!(
                f,
                "your path adds up to {folded} {asset} at the root, but the file names {named}"
            ),
        }
    }
}

/// The fold's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folded {
    /// The root hash folded to (lower-case hex, the profile's digits).
    pub root: String,
    /// The totals folded to, per profile asset.
    pub totals: Vec<Option<Decimal>>,
    /// The tree's height (leaves are 1).
    pub height: usize,
    /// The hash of the node entering each step, in step order (what a padding sibling copies).
    pub entering: Vec<String>,
    /// Everything that failed, in the order found.
    pub failures: Vec<FoldFailure>,
}

impl Profile {
    /// The shape OKX and Bybit share: `sha256hex(left ‖ right ‖ sums ‖ height)`, the sums in
    /// asset order with nothing between them, each cut to `places`.
    pub fn concatenated(
        name: String,
        assets: Vec<String>,
        places: u32,
        number: NumberText,
    ) -> Profile {
        Profile {
            name,
            assets,
            hex_digits: 64,
            pieces: vec![
                Piece::LeftHash,
                Piece::RightHash,
                Piece::Sums,
                Piece::Height,
            ],
            sums: SumsText::Concat,
            places: Some(places),
            number,
            zero_fill: Vec::new(),
            blank_sibling: false,
        }
    }

    /// SHA-256 of `text`, as many lower-case hex digits as the profile keeps.
    pub fn hash(&self, text: &str) -> String {
        let mut h = hex::encode(Sha256::digest(text.as_bytes()));
        h.truncate(self.hex_digits);
        h
    }

    /// The sum of two children's values under the profile's rule.
    pub fn add(&self, a: Decimal, b: Decimal) -> Option<Decimal> {
        let s = a.checked_add(b).ok()?;
        Some(match self.places {
            Some(p) => s.truncate(p),
            None => s,
        })
    }

    /// One value as the profile writes it.
    pub fn write_number(&self, d: Decimal) -> Option<String> {
        Some(match self.number {
            NumberText::Trimmed => d.trimmed(),
            NumberText::Fixed(p) => d.fixed(p).ok()?,
            NumberText::Scaled => d.plain(),
            NumberText::Java => d.java_string(),
        })
    }

    /// A list of sums as the profile writes it.
    pub fn write_sums(&self, sums: &[Option<Decimal>]) -> Option<String> {
        let mut written = Vec::with_capacity(sums.len());
        for (a, d) in self.assets.iter().zip(sums) {
            if let Some(d) = d {
                written.push((a.as_str(), self.write_number(*d)?));
            }
        }
        Some(match self.sums {
            SumsText::Concat => written.into_iter().map(|(_, v)| v).collect(),
            SumsText::SortedPairs => {
                // Java's String order is by UTF-16 code units; for the ASCII asset names
                // exchanges use, that is byte order.
                written.sort_by(|x, y| x.0.encode_utf16().cmp(y.0.encode_utf16()));
                written
                    .iter()
                    .map(|(a, v)| format!("{a}:{v}"))
                    .collect::<Vec<_>>()
                    .join(",")
            }
            SumsText::Json { quoted } => {
                let q = if quoted { "\"" } else { "" };
                let body: Vec<String> = written
                    .iter()
                    .map(|(a, v)| format!("\"{a}\":{q}{v}{q}"))
                    .collect();
                format!("{{{}}}", body.join(","))
            }
        })
    }

    /// A parent's hash from its children, its own sums and its height.
    pub fn parent_hash(
        &self,
        left: &Node,
        right: &Node,
        sums: &[Option<Decimal>],
        height: usize,
        levels: usize,
    ) -> Option<String> {
        let mut parts = Vec::with_capacity(self.pieces.len());
        for p in &self.pieces {
            parts.push(match p {
                Piece::Text(t) => t.clone(),
                Piece::LeftHash => left.hash.to_ascii_lowercase(),
                Piece::RightHash => right.hash.to_ascii_lowercase(),
                Piece::Sums => self.write_sums(sums)?,
                Piece::LeftSums => self.write_sums(&left.sums)?,
                Piece::RightSums => self.write_sums(&right.sums)?,
                Piece::Height => height.to_string(),
                Piece::Level => (levels + 1).checked_sub(height)?.to_string(),
            });
        }
        Some(self.hash(&parts.concat()))
    }

    /// The parent of two nodes at `height` of a tree of `levels` levels: sums added, hash
    /// recomputed. `Err(asset index)` when a sum overflows.
    pub fn parent(
        &self,
        left: &Node,
        right: &Node,
        height: usize,
        levels: usize,
    ) -> Result<Node, usize> {
        let lone = |n: &Node| self.blank_sibling && n.hash.is_empty();
        let mut sums = Vec::with_capacity(self.assets.len());
        for (i, (a, b)) in left.sums.iter().zip(&right.sums).enumerate() {
            // MEXC merges a blank left child's sums but ignores a blank right child's.
            let (a, b) = (*a, if lone(right) { None } else { *b });
            let fill = !lone(right) && self.zero_fill.iter().any(|z| *z == self.assets[i]);
            sums.push(match (a, b) {
                (Some(a), Some(b)) => Some(self.add(a, b).ok_or(i)?),
                (Some(x), None) | (None, Some(x)) => Some(x),
                (None, None) if fill => Some(Decimal::ZERO),
                (None, None) => None,
            });
        }
        let hash = self
            .parent_hash(left, right, &sums, height, levels)
            .ok_or(0usize)?;
        Ok(Node { hash, sums })
    }

    /// Folds a customer's path to its root.
    pub fn fold(&self, path: &SumPath) -> Folded {
        let mut failures = Vec::new();
        let levels = path.steps.len() + 1;
        let negatives = |level: usize, n: &Node, failures: &mut Vec<FoldFailure>| {
            for (a, d) in self.assets.iter().zip(&n.sums) {
                let Some(d) = d else { continue };
                if d.is_negative() {
                    failures.push(FoldFailure::Negative {
                        level,
                        asset: a.clone(),
                        value: d.plain(),
                    });
                }
            }
        };
        negatives(0, &path.leaf, &mut failures);
        let mut node = path.leaf.clone();
        let mut height = 1;
        let mut entering = Vec::with_capacity(path.steps.len());
        for (i, step) in path.steps.iter().enumerate() {
            entering.push(node.hash.clone());
            negatives(i + 1, &step.sibling, &mut failures);
            height += 1;
            let (l, r) = match step.side {
                Side::Left => (&step.sibling, &node),
                Side::Right => (&node, &step.sibling),
            };
            match self.parent(l, r, height, levels) {
                Ok(p) => node = p,
                Err(a) => {
                    failures.push(FoldFailure::Overflow {
                        level: i + 1,
                        asset: self.assets.get(a).cloned().unwrap_or_default(),
                    });
                    return Folded {
                        root: String::new(),
                        totals: Vec::new(),
                        height,
                        entering,
                        failures,
                    };
                }
            }
        }
        if let Some(root) = &path.root {
            negatives(path.steps.len() + 1, root, &mut failures);
            if !root.hash.eq_ignore_ascii_case(&node.hash) {
                failures.push(FoldFailure::RootHash {
                    folded: node.hash.clone(),
                    named: root.hash.clone(),
                });
            }
            for ((a, got), named) in self.assets.iter().zip(&node.sums).zip(&root.sums) {
                let z = Decimal::ZERO;
                let (g, n) = (got.unwrap_or(z), named.unwrap_or(z));
                if g.cmp_value(n) != std::cmp::Ordering::Equal {
                    failures.push(FoldFailure::RootSum {
                        asset: a.clone(),
                        folded: g.plain(),
                        named: n.plain(),
                    });
                }
            }
        }
        Folded {
            root: node.hash,
            totals: node.sums,
            height,
            entering,
            failures,
        }
    }
}
