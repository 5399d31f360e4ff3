//! A proof file from anyone: parsing never panics, and whatever parses verifies or fails cleanly
//! against a fixed attestation.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = por_core::proof::InclusionProof::from_json("fuzz", data) {
        let _ = p.to_json();
        let att = por_core::Attestation::from_json(
            "att",
            include_bytes!("../corpus/attestation/vector.json"),
        )
        .expect("the seed attestation parses");
        let _ = por_core::proof::verify_inclusion(&att, &p, &p.user_id);
    }
});
