//! Another exchange's proof file from anyone: under every format, reading never panics and a
//! result names a root (a failure or an input error is a value, never a crash).
#![no_main]
use libfuzzer_sys::fuzz_target;
use por_core::published::{check, Format, Given, Input};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    // A NUL splits the input into two files (OKX v2's customer file and tree listing).
    let parts: Vec<&str> = text.splitn(2, '\0').collect();
    let files: Vec<Input> = parts.iter().map(|t| Input { name: "fuzz", text: t }).collect();
    let given = Given {
        user_id: Some("2".into()),
        nonce: Some("b88860add96111d84d38a500266df715158f91375d9aaa98aa58356f9a872412".into()),
        layout: None,
        asset_count: None,
    };
    let _ = por_core::published::detect(text);
    for f in std::iter::once(None).chain(Format::ALL.iter().copied().map(Some)) {
        if let Ok(c) = check(&files, f, &given) {
            assert!(c.format.is_some());
        }
    }
});
