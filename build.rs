//! Marks the end-to-end tests that need a chain node as ignored, with the reason, when the node
//! is not installed, so `cargo test`'s own summary says how many did not run ("N ignored")
//! instead of printing `ok` for tests that returned early. In CI (`CI` set) or with
//! `POR_REQUIRE_NODES`, nothing is ignored: a missing node fails its tests there. The same
//! holds for the SoftHSM token of tests/hsm.rs and the Safe contracts of tests/safe.rs.

use std::path::PathBuf;

fn found(env: &str, name: &str, in_dir: bool) -> bool {
    println!("cargo:rerun-if-env-changed={env}");
    if let Some(v) = std::env::var_os(env) {
        let p = PathBuf::from(v);
        let p = if in_dir { p.join(name) } else { p };
        if p.exists() {
            return true;
        }
    }
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|d| d.join(name).exists()))
}

/// Where distributions install SoftHSM's PKCS#11 module (tests/hsm.rs looks in the same places).
const SOFTHSM_PATHS: [&str; 4] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
    "/usr/lib64/softhsm/libsofthsm2.so",
    "/usr/local/lib/softhsm/libsofthsm2.so",
];

/// Where tests/support/safe-contracts.sh put the Safe contracts (tests/safe.rs looks there too).
fn por_safe_contracts() -> Option<PathBuf> {
    let dir = match std::env::var_os("POR_SAFE_CONTRACTS") {
        Some(d) => PathBuf::from(d),
        None => std::env::var_os("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?
            .join("por-tools/safe-contracts"),
    };
    dir.join("complete").exists().then_some(dir)
}

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_bitcoind)");
    println!("cargo::rustc-check-cfg=cfg(no_anvil)");
    println!("cargo::rustc-check-cfg=cfg(no_softhsm)");
    println!("cargo::rustc-check-cfg=cfg(no_safe_contracts)");
    println!("cargo:rerun-if-env-changed=POR_SAFE_CONTRACTS");
    println!("cargo:rerun-if-env-changed=POR_SOFTHSM_MODULE");
    println!("cargo:rerun-if-env-changed=PATH");
    println!("cargo:rerun-if-env-changed=CI");
    println!("cargo:rerun-if-env-changed=POR_REQUIRE_NODES");
    println!("cargo:rerun-if-changed=build.rs");
    let required = std::env::var_os("CI").is_some_and(|v| !v.is_empty())
        || std::env::var_os("POR_REQUIRE_NODES").is_some();
    if required {
        return;
    }
    if !found("POR_BITCOIND_DIR", "bitcoind", true) {
        println!("cargo:rustc-cfg=no_bitcoind");
    }
    if !found("POR_ANVIL", "anvil", false) {
        println!("cargo:rustc-cfg=no_anvil");
    }
    // SoftHSM: its module (POR_SOFTHSM_MODULE or a distribution's path) and softhsm2-util.
    let module = std::env::var_os("POR_SOFTHSM_MODULE")
        .map(PathBuf::from)
        .into_iter()
        .chain(SOFTHSM_PATHS.iter().map(PathBuf::from))
        .any(|p| p.exists());
    let util = std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|d| d.join("softhsm2-util").exists())
    });
    if !module || !util {
        println!("cargo:rustc-cfg=no_softhsm");
    }
    // The Safe team's contracts from npm (tests/support/safe-contracts.sh), for tests/safe.rs.
    if por_safe_contracts().is_none() {
        println!("cargo:rustc-cfg=no_safe_contracts");
    }
}
