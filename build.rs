//! Marks the end-to-end tests that need a chain node as ignored, with the reason, when the node
//! is not installed, so `cargo test`'s own summary says how many did not run ("N ignored")
//! instead of printing `ok` for tests that returned early. In CI (`CI` set) or with
//! `POR_REQUIRE_NODES`, nothing is ignored: a missing node fails its tests there.

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

fn main() {
    println!("cargo::rustc-check-cfg=cfg(no_bitcoind)");
    println!("cargo::rustc-check-cfg=cfg(no_anvil)");
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
}
