//! A proof file from anyone, of either mode: parsing never panics, and whatever parses verifies
//! or fails cleanly against a fixed attestation of each mode.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = por_core::proof::Proof::from_json("fuzz", data) {
        let _ = p.to_json();
        for seed in [
            &include_bytes!("../corpus/attestation/vector.json")[..],
            &include_bytes!("../corpus/attestation/hidden-vector.json")[..],
        ] {
            let att = por_core::Attestation::from_json("att", seed)
                .expect("the seed attestation parses");
            let _ = por_core::proof::verify_proof(&att, &p, p.user_id());
        }
    }
});
