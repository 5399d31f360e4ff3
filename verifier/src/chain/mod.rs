//! Checking reserves against the user's own chain nodes over JSON-RPC.
//!
//! A node that cannot answer (unreachable, an RPC error, not synced to the snapshot height,
//! missing an index the checks rely on) is a usage problem, exit 2: never a silent pass. A
//! node that answers and disagrees with the exchange's claim is a failed check, exit 1.

pub mod bitcoin;
pub mod ethereum;

use crate::chains::Chain;
use crate::error::{Error, Result};
use crate::reserves::holding::{Entry, Holding};
use serde_json::{json, Value};
use std::time::Duration;

/// Why a node given for `chain` (by `flag`) cannot be used: no check at a snapshot height exists
/// for it ([`Chain::has_snapshot_node`]).
pub fn no_snapshot_node(chain: Chain, flag: &str) -> Error {
    Error::input(format!(
        "{flag} {chain}: no check of {chain} balances at a snapshot height exists yet (TRON's and \
         Solana's nodes answer the current state only; the Bitcoin forks' check is not built), so a node \
         cannot be used; its holdings are reported UNVERIFIED (spec/reserves.md, \"TRON and Solana\")"
    ))
}

/// A Bitcoin snapshot block is settled when buried under this many blocks, itself included.
pub const BITCOIN_SETTLED_DEPTH: u64 = 6;

/// What a node says about a snapshot height.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The height.
    pub height: u64,
    /// The block's timestamp, seconds since the epoch.
    pub block_time: i64,
    /// `Ok` says how it is settled; `Err` why it is not yet (the check can be run again later).
    pub settled: std::result::Result<String, String>,
}

/// A connected node of one chain family.
pub enum Node {
    /// A Bitcoin Core node.
    Bitcoin(bitcoin::BitcoinNode),
    /// An EVM node.
    Evm(ethereum::EthereumNode),
}

impl Node {
    /// Connects to the node for `chain` and checks that it serves that chain.
    pub fn connect(chain: Chain, url: &str) -> Result<Node> {
        Ok(match chain {
            Chain::Bitcoin(n) => Node::Bitcoin(bitcoin::BitcoinNode::connect(
                url,
                crate::reserves::holding::network(n),
            )?),
            Chain::Evm(id) => Node::Evm(ethereum::EthereumNode::connect(url, id)?),
            Chain::Tron | Chain::Solana | Chain::BitcoinFork(_) => {
                return Err(no_snapshot_node(chain, "--node"))
            }
        })
    }

    /// `bitcoin-regtest node at http://127.0.0.1:18443 (height 120)`, for the report.
    pub fn describe(&self, chain: Chain) -> String {
        match self {
            Node::Bitcoin(n) => format!("{chain} node at {} (height {})", n.shown(), n.height()),
            Node::Evm(n) => format!("{chain} node at {} (block {})", n.shown(), n.height()),
        }
    }

    /// The node's tip: its height and block time.
    pub fn tip(&self) -> Result<(u64, i64)> {
        match self {
            Node::Bitcoin(n) => n.tip(),
            Node::Evm(n) => n.tip(),
        }
    }

    /// The snapshot block's time and settlement.
    pub fn snapshot(&self, height: u64) -> Result<Snapshot> {
        match self {
            Node::Bitcoin(n) => n.snapshot(height),
            Node::Evm(n) => n.snapshot(height),
        }
    }

    /// Checks one entry's balance on chain; `decimals` is the chain unit confirmed by the
    /// registry. `Ok(Err(reason))` is a failed check; `Err` a node problem.
    pub fn check(&self, e: &Entry, decimals: u8) -> Result<std::result::Result<String, String>> {
        match (&e.holding, self) {
            (Holding::Bitcoin(b), Node::Bitcoin(n)) => n.check(b, e.height),
            (Holding::Evm(h), Node::Evm(n)) => n.check(h, e.height, e.balance, decimals),
            (Holding::Bitcoin(_), Node::Evm(_))
            | (Holding::Evm(_), Node::Bitcoin(_))
            | (Holding::Tron(_) | Holding::Solana(_) | Holding::Fork(_), _) => Err(Error::input(
                format!("the node given for {} is of another chain family", e.chain),
            )),
        }
    }
}

impl Node {
    /// For a Safe entry, its control at the snapshot block (`None` for any other entry):
    /// the owners' signatures over the entry's challenge, then the chain's checks of
    /// [`ethereum::EthereumNode::safe_control`].
    pub fn safe_control(
        &self,
        e: &Entry,
        att: &por_core::attestation::Attestation,
        signatures: &[String],
    ) -> Result<Option<std::result::Result<ethereum::SafeFacts, String>>> {
        let (Holding::Evm(h), Node::Evm(n)) = (&e.holding, self) else {
            return Ok(None);
        };
        let Some(version) = h.safe else {
            return Ok(None);
        };
        let challenge = crate::reserves::challenge(
            &att.exchange,
            &att.period,
            &e.chain,
            e.height,
            &att.digest(),
        );
        let signers = match crate::reserves::safe::owner_signatures(
            version, h.chain_id, &h.address, &challenge, signatures,
        ) {
            Ok(s) => s,
            Err(why) => return Ok(Some(Err(why))),
        };
        n.safe_control(h, version, e.height, signers).map(Some)
    }

    /// The entry's balance at the end of block `height`, in the chain's base units (for the
    /// snapshot span: [`crate::verdict`]). `Ok(Err(reason))` is a failed check.
    pub fn balance_at(
        &self,
        e: &Entry,
        decimals: u8,
        height: u64,
    ) -> Result<std::result::Result<u128, String>> {
        match (&e.holding, self) {
            (Holding::Bitcoin(b), Node::Bitcoin(n)) => n.balance_at(b, height),
            (Holding::Evm(h), Node::Evm(n)) => n.balance_at(h, height, decimals),
            (Holding::Bitcoin(_), Node::Evm(_))
            | (Holding::Evm(_), Node::Bitcoin(_))
            | (Holding::Tron(_) | Holding::Solana(_) | Holding::Fork(_), _) => Err(Error::input(
                format!("the node given for {} is of another chain family", e.chain),
            )),
        }
    }

    /// The time of the block at `height`.
    pub fn time_of(&self, height: u64) -> Result<i64> {
        match self {
            Node::Bitcoin(n) => n.time_of(height),
            Node::Evm(n) => n.time_of(height),
        }
    }

    /// `B(t)`: the block a bisection over `[0, tip]` finds as the last one stamped at or before
    /// `t` (spec/reserves.md, "The snapshot span"): `lo = 0, hi = tip`; while `lo < hi`, `mid =
    /// lo + (hi - lo + 1) / 2` and `time(mid) <= t` moves `lo` to `mid`, else `hi` to `mid - 1`.
    /// On a chain whose times only grow (EVM) that is the last such block; on Bitcoin, whose
    /// times may step back, it is a block stamped at or before `t` whose successor is not.
    pub fn block_at(&self, t: i64, tip: u64, tip_time: i64) -> Result<BlockAt> {
        block_at(t, tip, tip_time, |h| self.time_of(h))
    }
}

/// The bisection of [`Node::block_at`], over any source of block times.
pub fn block_at(
    t: i64,
    tip: u64,
    tip_time: i64,
    mut time_of: impl FnMut(u64) -> Result<i64>,
) -> Result<BlockAt> {
    if tip_time <= t {
        return Ok(BlockAt::NotYet);
    }
    if time_of(0)? > t {
        return Ok(BlockAt::BeforeGenesis);
    }
    let (mut lo, mut hi) = (0u64, tip);
    while lo < hi {
        let mid = lo + (hi - lo).div_ceil(2);
        if time_of(mid)? <= t {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    Ok(BlockAt::At(lo))
}

/// Which block a chain had at a moment ([`Node::block_at`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlockAt {
    /// This block.
    At(u64),
    /// The chain did not exist yet: nothing was held on it.
    BeforeGenesis,
    /// The node's tip is not yet later than the moment: a block still to come could be
    /// stamped at or before it, so the balance then is not known yet.
    NotYet,
}

/// What an RPC call can end in, besides a result.
#[derive(Debug)]
pub enum RpcError {
    /// The node answered with a JSON-RPC error.
    Rpc {
        /// The error code.
        code: i64,
        /// The error message.
        message: String,
    },
    /// The node could not be reached or did not speak JSON-RPC: exit 2.
    Node(Error),
}

/// A JSON-RPC endpoint. Credentials in the URL (`http://user:pass@host:port`) are sent as
/// HTTP basic authentication and never printed.
pub struct Rpc {
    name: &'static str,
    url: String,
    shown: String,
    auth: Option<String>,
    agent: ureq::Agent,
}

impl Rpc {
    /// A client for `url`; `name` ("bitcoin node", "ethereum node") appears in messages.
    pub fn new(name: &'static str, url: &str) -> Result<Rpc> {
        let (scheme, rest) = url.split_once("://").ok_or_else(|| {
            Error::input(format!(
                "{name} URL {:?}: expected http://[user:pass@]host:port or https://...",
                redact(url)
            ))
        })?;
        if scheme != "http" && scheme != "https" {
            return Err(Error::input(format!(
                "{name} URL {:?}: expected http:// or https://",
                redact(url)
            )));
        }
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let (auth, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                use base64::Engine as _;
                (
                    Some(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(userinfo)
                    )),
                    host,
                )
            }
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(Error::input(format!("{name} URL: no host")));
        }
        let url = format!("{scheme}://{host}{path}");
        let agent = ureq::AgentBuilder::new()
            .timeout(Duration::from_secs(60))
            .build();
        Ok(Rpc {
            name,
            shown: url.clone(),
            url,
            auth,
            agent,
        })
    }

    /// The URL without credentials, for messages.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Calls `method`; distinguishes JSON-RPC errors from a node that cannot be used.
    pub fn call(&self, method: &str, params: Value) -> std::result::Result<Value, RpcError> {
        let body =
            json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).to_string();
        let mut req = self
            .agent
            .post(&self.url)
            .set("Content-Type", "application/json");
        if let Some(a) = &self.auth {
            req = req.set("Authorization", a);
        }
        let node_err = |what: String| {
            RpcError::Node(Error::input(format!(
                "{} at {}: {method}: {what}",
                self.name, self.shown
            )))
        };
        let text = match req.send_string(&body) {
            Ok(resp) => resp
                .into_string()
                .map_err(|e| node_err(format!("cannot read the answer: {e}")))?,
            // Bitcoin Core answers RPC errors with HTTP 404/500 and a JSON body.
            Err(ureq::Error::Status(code, resp)) => {
                let text = resp.into_string().unwrap_or_default();
                if serde_json::from_str::<Value>(&text)
                    .ok()
                    .and_then(|v| v.get("error").cloned())
                    .is_none()
                {
                    return Err(node_err(format!(
                        "HTTP status {code}{}",
                        if code == 401 {
                            " (wrong user or password?)"
                        } else {
                            ""
                        }
                    )));
                }
                text
            }
            Err(ureq::Error::Transport(t)) => return Err(node_err(format!("unreachable: {t}"))),
        };
        let v: Value =
            serde_json::from_str(&text).map_err(|_| node_err("the answer is not JSON".into()))?;
        match v.get("error") {
            Some(e) if !e.is_null() => Err(RpcError::Rpc {
                code: e.get("code").and_then(Value::as_i64).unwrap_or(0),
                message: e
                    .get("message")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            }),
            _ => Ok(v.get("result").cloned().unwrap_or(Value::Null)),
        }
    }

    /// Calls `method` where any error means the node cannot be used (exit 2).
    pub fn must(&self, method: &str, params: Value) -> Result<Value> {
        self.call(method, params).map_err(|e| self.fatal(method, e))
    }

    /// Turns any RPC error into a node problem (exit 2).
    pub fn fatal(&self, method: &str, e: RpcError) -> Error {
        match e {
            RpcError::Node(err) => err,
            RpcError::Rpc { code, message } => Error::input(format!(
                "{} at {}: {method} failed: {message} (code {code})",
                self.name, self.shown
            )),
        }
    }
}

fn redact(url: &str) -> String {
    crate::reserves::redact_url(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(times: &[i64], t: i64) -> BlockAt {
        let tip = times.len() as u64 - 1;
        block_at(t, tip, times[tip as usize], |h| Ok(times[h as usize])).unwrap()
    }

    #[test]
    fn the_block_at_a_moment() {
        let evm = [100, 110, 120, 130, 140];
        assert_eq!(at(&evm, 99), BlockAt::BeforeGenesis);
        assert_eq!(at(&evm, 100), BlockAt::At(0));
        assert_eq!(at(&evm, 125), BlockAt::At(2));
        assert_eq!(at(&evm, 130), BlockAt::At(3));
        assert_eq!(at(&evm, 139), BlockAt::At(3));
        // The tip not yet past the moment: a block to come could still be stamped before it.
        assert_eq!(at(&evm, 140), BlockAt::NotYet);
        assert_eq!(at(&evm, 1_000), BlockAt::NotYet);
        // Equal times (allowed on some chains): the last of them.
        assert_eq!(at(&[100, 110, 110, 110, 140], 110), BlockAt::At(3));
        // Bitcoin's times may step back: the bisection's answer is stamped at or before the
        // moment and its successor is not, as spec/reserves.md defines it.
        let btc = [100, 130, 120, 125, 150, 140, 160];
        for t in 100..160 {
            let BlockAt::At(h) = at(&btc, t) else {
                panic!("{t}")
            };
            assert!(btc[h as usize] <= t && btc[h as usize + 1] > t, "{t}: {h}");
        }
    }
}
