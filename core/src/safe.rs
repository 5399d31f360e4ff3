//! Safe multisig wallets (formerly Gnosis Safe): which contracts count as a Safe, and the hash
//! its owners sign to prove control (spec/reserves.md, "Safe multisig wallets").
//!
//! A Safe cannot sign: it is a contract, a proxy whose storage slot 0 names the singleton
//! (the implementation) it delegates every call to. It proves control through EIP-1271
//! `isValidSignature`, but any contract can answer yes to that, and a hijacked Safe (Bybit,
//! 2025: slot 0 overwritten through a delegatecall) answers as its new implementation says.
//! So the verifier never asks the contract whether a signature is valid. It checks, at the
//! snapshot block, that the code at the address is a Safe proxy and that slot 0 names a
//! singleton of this table whose own code is the released code, reads the owners and the
//! threshold, and checks the owners' signatures over [`message_hash`] itself, as the Safe
//! would.
//!
//! The table's code hashes were recomputed here from the npm packages the Safe team published
//! (`@safe-global/safe-contracts` 1.4.1, `@gnosis.pm/safe-contracts` 1.3.0 and 1.1.1: each
//! artifact's `deployedBytecode`), and the singletons' agree with the mainnet code hashes of
//! safe-global/safe-deployments (`../shared/vectors/chains/safe.json`). A proxy's runtime code
//! is the same for every proxy its factory creates, and each factory's code carries it.

use crate::evm::EthAddress;
use sha3::{Digest, Keccak256};

/// `keccak256("SafeMessage(bytes message)")`, the same in 1.1.1, 1.3.0 and 1.4.1.
pub const SAFE_MSG_TYPEHASH: [u8; 32] =
    h32("60b3cbf8b4a223d68d641b3b6ddf9a298e7f33710cf3d3a9d1146b5a6150fbca");
/// `keccak256("EIP712Domain(uint256 chainId,address verifyingContract)")`, 1.3.0 and later.
pub const DOMAIN_TYPEHASH_CHAIN: [u8; 32] =
    h32("47e79534a245952e8b16893a336b85a3d9ea9fa8c573f3d803afb92a79469218");
/// `keccak256("EIP712Domain(address verifyingContract)")`, 1.2.0 and earlier (1.1.1): no chain
/// id, so a 1.1.1 owner's signature for one Safe address is valid for that address on every
/// chain. The challenge names the chain, so it cannot be replayed as another chain's proof.
pub const DOMAIN_TYPEHASH_NO_CHAIN: [u8; 32] =
    h32("035aff83d86937d35b32e04f0ddc6ff469290eef2f1b692d8a815c89404d4749");
/// The storage slot of a 1.3.0 or later Safe's transaction guard:
/// `keccak256("guard_manager.guard.address")`.
pub const GUARD_SLOT: [u8; 32] =
    h32("4a204f620c8c5ccdca3fd54d003badd85ba500436a431f0cbda4f558c93c34c8");

/// A Safe release whose singletons the verifier knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SafeVersion {
    /// 1.1.1 (the version of Bybit's cold wallet).
    V1_1_1,
    /// 1.3.0.
    V1_3_0,
    /// 1.4.1.
    V1_4_1,
}

/// A singleton (implementation) of a release, at its deterministic address on every chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Singleton {
    /// The contract's name in the release (`GnosisSafe`, `GnosisSafeL2`, `Safe`, `SafeL2`).
    pub name: &'static str,
    /// Its address.
    pub address: EthAddress,
    /// `keccak256` of its runtime code.
    pub code_hash: [u8; 32],
}

const V111_SINGLETONS: &[Singleton] = &[Singleton {
    name: "GnosisSafe",
    address: EthAddress(h20("34cfac646f301356faa8b21e94227e3583fe3f5f")),
    code_hash: h32("56b8be58b5ad629a621593a2e5e5e8e9a28408dc06e95597497b303902772e45"),
}];
const V130_SINGLETONS: &[Singleton] = &[
    Singleton {
        name: "GnosisSafe",
        address: EthAddress(h20("d9db270c1b5e3bd161e8c8503c55ceabee709552")),
        code_hash: h32("bba688fbdb21ad2bb58bc320638b43d94e7d100f6f3ebaab0a4e4de6304b1c2e"),
    },
    Singleton {
        name: "GnosisSafe (eip155 deployment)",
        address: EthAddress(h20("69f4d1788e39c87893c980c06edf4b7f686e2938")),
        code_hash: h32("bba688fbdb21ad2bb58bc320638b43d94e7d100f6f3ebaab0a4e4de6304b1c2e"),
    },
    Singleton {
        name: "GnosisSafeL2",
        address: EthAddress(h20("3e5c63644e683549055b9be8653de26e0b4cd36e")),
        code_hash: h32("21842597390c4c6e3c1239e434a682b054bd9548eee5e9b1d6a4482731023c0f"),
    },
    Singleton {
        name: "GnosisSafeL2 (eip155 deployment)",
        address: EthAddress(h20("fb1bffc9d739b8d520daf37df666da4c687191ea")),
        code_hash: h32("21842597390c4c6e3c1239e434a682b054bd9548eee5e9b1d6a4482731023c0f"),
    },
];
const V141_SINGLETONS: &[Singleton] = &[
    Singleton {
        name: "Safe",
        address: EthAddress(h20("41675c099f32341bf84bfc5382af534df5c7461a")),
        code_hash: h32("1fe2df852ba3299d6534ef416eefa406e56ced995bca886ab7a553e6d0c5e1c4"),
    },
    Singleton {
        name: "SafeL2",
        address: EthAddress(h20("29fcb43b46531bca003ddc8fcb67ffe91900c762")),
        code_hash: h32("b1f926978a0f44a2c0ec8fe822418ae969bd8c3f18d61e5103100339894f81ff"),
    },
];

impl SafeVersion {
    /// Every release the verifier knows, oldest first.
    pub const ALL: [SafeVersion; 3] = [
        SafeVersion::V1_1_1,
        SafeVersion::V1_3_0,
        SafeVersion::V1_4_1,
    ];

    /// Parses an entry's `wallet` field: `safe-1.1.1`, `safe-1.3.0` or `safe-1.4.1`.
    pub fn parse(wallet: &str) -> Result<SafeVersion, String> {
        SafeVersion::ALL
            .into_iter()
            .find(|v| v.wallet() == wallet)
            .ok_or_else(|| {
                format!(
                    "expected one of safe-1.1.1, safe-1.3.0, safe-1.4.1 (the Safe releases the verifier knows), found {wallet:?}"
                )
            })
    }

    /// The `wallet` field's value.
    pub fn wallet(&self) -> &'static str {
        match self {
            SafeVersion::V1_1_1 => "safe-1.1.1",
            SafeVersion::V1_3_0 => "safe-1.3.0",
            SafeVersion::V1_4_1 => "safe-1.4.1",
        }
    }

    /// `1.4.1`.
    pub fn number(&self) -> &'static str {
        &self.wallet()[5..]
    }

    /// The release's singletons.
    pub fn singletons(&self) -> &'static [Singleton] {
        match self {
            SafeVersion::V1_1_1 => V111_SINGLETONS,
            SafeVersion::V1_3_0 => V130_SINGLETONS,
            SafeVersion::V1_4_1 => V141_SINGLETONS,
        }
    }

    /// `keccak256` of the runtime code of the proxies the release's factory creates.
    pub fn proxy_code_hash(&self) -> [u8; 32] {
        match self {
            // Proxy (ProxyFactory 1.1.1).
            SafeVersion::V1_1_1 => {
                h32("aea7d4252f6245f301e540cfbee27d3a88de543af8e49c5c62405d5499fab7e5")
            }
            // GnosisSafeProxy (GnosisSafeProxyFactory 1.3.0).
            SafeVersion::V1_3_0 => {
                h32("b89c1b3bdf2cf8827818646bce9a8f6e372885f8c55e5c07acbd307cb133b000")
            }
            // SafeProxy (SafeProxyFactory 1.4.1).
            SafeVersion::V1_4_1 => {
                h32("d7d408ebcd99b2b70be43e20253d6d92a8ea8fab29bd3be7f55b10032331fb4c")
            }
        }
    }

    /// Whether the release has a transaction guard (1.3.0 and later).
    pub fn has_guard(&self) -> bool {
        *self != SafeVersion::V1_1_1
    }

    /// The release and singleton that `implementation` is, if it is one of the table's.
    pub fn singleton_at(implementation: &EthAddress) -> Option<(SafeVersion, &'static Singleton)> {
        SafeVersion::ALL.into_iter().find_map(|v| {
            v.singletons()
                .iter()
                .find(|s| s.address == *implementation)
                .map(|s| (v, s))
        })
    }
}

fn word_address(a: &EthAddress) -> [u8; 32] {
    let mut w = [0u8; 32];
    w[12..].copy_from_slice(&a.0);
    w
}

/// The Safe's EIP-712 domain separator: `keccak256(abi.encode(DOMAIN_TYPEHASH_CHAIN, chainId,
/// safe))` from 1.3.0, `keccak256(abi.encode(DOMAIN_TYPEHASH_NO_CHAIN, safe))` before.
pub fn domain_separator(version: SafeVersion, chain_id: u64, safe: &EthAddress) -> [u8; 32] {
    let mut h = Keccak256::new();
    match version {
        SafeVersion::V1_1_1 => h.update(DOMAIN_TYPEHASH_NO_CHAIN),
        SafeVersion::V1_3_0 | SafeVersion::V1_4_1 => {
            h.update(DOMAIN_TYPEHASH_CHAIN);
            let mut id = [0u8; 32];
            id[24..].copy_from_slice(&chain_id.to_be_bytes());
            h.update(id);
        }
    }
    h.update(word_address(safe));
    h.finalize().into()
}

/// The bytes a Safe signs for a reserves challenge: its EIP-191 hash,
/// `keccak256("\x19Ethereum Signed Message:\n" ‖ decimal(len) ‖ challenge)`. That is what
/// Safe{Wallet} puts in `SafeMessage.message` when the owners sign a text message, and what an
/// EIP-1271 caller passes for one, so the owners sign the challenge in their usual tool.
pub fn challenge_message(challenge: &[u8]) -> [u8; 32] {
    crate::evm::personal_message_hash(challenge)
}

/// The hash a Safe's owners sign for `message`, as the Safe computes it (1.1.1
/// `getMessageHash`, 1.3.0 and 1.4.1 `CompatibilityFallbackHandler.getMessageHashForSafe`):
/// `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ keccak256(abi.encode(SAFE_MSG_TYPEHASH,
/// keccak256(message))))`.
pub fn message_hash(
    version: SafeVersion,
    chain_id: u64,
    safe: &EthAddress,
    message: &[u8],
) -> [u8; 32] {
    let mut s = Keccak256::new();
    s.update(SAFE_MSG_TYPEHASH);
    s.update(Keccak256::digest(message));
    let safe_message: [u8; 32] = s.finalize().into();
    let mut h = Keccak256::new();
    h.update([0x19, 0x01]);
    h.update(domain_separator(version, chain_id, safe));
    h.update(safe_message);
    h.finalize().into()
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'a'..=b'f' => c - b'a' + 10,
        // A constant of this file is malformed: compilation stops here.
        _ => panic!("not lower-case hex"),
    }
}

const fn h32(s: &str) -> [u8; 32] {
    let b = s.as_bytes();
    assert!(b.len() == 64);
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const fn h20(s: &str) -> [u8; 20] {
    let b = s.as_bytes();
    assert!(b.len() == 40);
    let mut out = [0u8; 20];
    let mut i = 0;
    while i < 20 {
        out[i] = nibble(b[2 * i]) << 4 | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_hashes_are_their_preimages() {
        let k = |s: &str| -> [u8; 32] { Keccak256::digest(s.as_bytes()).into() };
        assert_eq!(SAFE_MSG_TYPEHASH, k("SafeMessage(bytes message)"));
        assert_eq!(
            DOMAIN_TYPEHASH_CHAIN,
            k("EIP712Domain(uint256 chainId,address verifyingContract)")
        );
        assert_eq!(
            DOMAIN_TYPEHASH_NO_CHAIN,
            k("EIP712Domain(address verifyingContract)")
        );
        assert_eq!(GUARD_SLOT, k("guard_manager.guard.address"));
    }

    #[test]
    fn the_published_worked_example() {
        // pcaversaccio/safe-tx-hashes-util README, "Safe Message Hashes" (Sepolia, 1.3.0
        // domain), and the same inputs under 1.1.1's domain (../shared/vectors/chains/safe.json).
        let text = "Welcome to OpenSea!\n\nClick to sign in and accept the OpenSea Terms of Service (https://opensea.io/tos) and Privacy Policy (https://opensea.io/privacy).\n\nThis request will not trigger a blockchain transaction or cost any gas fees.\n\nWallet address:\n0x657ff0d4ec65d82b2bc1247b0a558bcd2f80a0f1\n\nNonce:\nea499f2f-fdbc-4d04-92c4-b60aba887e06";
        let safe = EthAddress(h20("657ff0d4ec65d82b2bc1247b0a558bcd2f80a0f1"));
        let m = challenge_message(text.as_bytes());
        assert_eq!(
            m,
            h32("cb1a9208c1a7c191185938c7d304ed01db68677eea4e689d688469aa72e34236")
        );
        assert_eq!(
            domain_separator(SafeVersion::V1_3_0, 11_155_111, &safe),
            h32("611379c19940caee095cdb12bebe6a9fa9abb74cdb1fbd7377c49a1f198dc24f")
        );
        assert_eq!(
            message_hash(SafeVersion::V1_4_1, 11_155_111, &safe, &m),
            h32("1866b559f56261ada63528391b93a1fe8e2e33baf7cace94fc6b42202d16ea08")
        );
        assert_eq!(
            message_hash(SafeVersion::V1_3_0, 1, &safe, &m),
            h32("af4c5c366477e0277a616955647cc40d8449849dc5c449ca040256c584cf742b")
        );
        // 1.1.1: no chain id, so the same on every chain.
        for id in [1, 11_155_111] {
            assert_eq!(
                message_hash(SafeVersion::V1_1_1, id, &safe, &m),
                h32("3c5d1397642ad641d4455f73b6c9227a971e9c5e0db3046b63e6e52c999fef56")
            );
        }
    }

    #[test]
    fn wallet_names() {
        for v in SafeVersion::ALL {
            assert_eq!(SafeVersion::parse(v.wallet()), Ok(v));
        }
        assert_eq!(SafeVersion::V1_4_1.number(), "1.4.1");
        assert!(SafeVersion::parse("safe").is_err());
        assert!(SafeVersion::parse("safe-1.2.0").is_err());
        let bybit = EthAddress(h20("34cfac646f301356faa8b21e94227e3583fe3f5f"));
        assert_eq!(
            SafeVersion::singleton_at(&bybit).map(|(v, _)| v),
            Some(SafeVersion::V1_1_1)
        );
        assert_eq!(SafeVersion::singleton_at(&EthAddress([7; 20])), None);
    }
}
