//! Installs that work: every crate states the Rust version it really needs (no lower than any
//! dependency's, as `cargo metadata` reports them) and the metadata a registry shows.

use serde_json::Value;

fn version(v: &str) -> Vec<u32> {
    v.split('.').map(|x| x.parse().unwrap_or(0)).collect()
}

#[test]
fn rust_version_is_no_lower_than_any_dependencys() {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--locked"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: Value = serde_json::from_slice(&out.stdout).unwrap();
    let members: Vec<&str> = m["workspace_members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let packages = m["packages"].as_array().unwrap();
    let (need, by) = packages
        .iter()
        .filter(|p| !members.contains(&p["id"].as_str().unwrap()))
        .filter_map(|p| {
            p["rust_version"]
                .as_str()
                .map(|v| (version(v), p["name"].as_str().unwrap()))
        })
        .max()
        .expect("some dependency states a rust-version");
    for p in packages
        .iter()
        .filter(|p| members.contains(&p["id"].as_str().unwrap()))
    {
        let name = p["name"].as_str().unwrap();
        let stated = p["rust_version"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: no rust-version"));
        assert!(
            version(stated) >= need,
            "{name} says rust-version {stated}, but {by} needs {need:?}"
        );
        assert!(
            p["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}: no description"
        );
        assert!(p["license"].as_str().is_some(), "{name}: no license");
    }
    // The README states the same minimum.
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let stated = format!("{}.{}", need[0], need[1]);
    assert!(
        readme.contains(&format!("{stated} or newer")),
        "README must say Rust {stated} or newer"
    );
}
