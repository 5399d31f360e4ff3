//! An attestation file from anyone: parsing never panics; what parses encodes, digests and
//! round-trips through its JSON to the same signed bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = por_core::Attestation::from_json("fuzz", data) {
        let m = a.signing_message();
        let back = por_core::Attestation::from_json("again", a.to_json().as_bytes()).expect("own JSON parses");
        assert_eq!(back.signing_message(), m);
        let _ = a.snapshot_in_period();
        for b in &a.bindings {
            if let Ok(c) = b.check(&a.assets) {
                let _ = por_core::registry::Registry::built_in().confirm(&c);
            }
        }
    }
});
