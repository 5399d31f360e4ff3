//! A reserves statement from anyone: parsing never panics, and every entry either parses into
//! its chain family's types or is refused with a reason.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = por_core::reserves::ReservesStatement::from_json("fuzz", data) {
        let _ = s.signing_message();
        for e in &s.entries {
            let _ = por_verifier::reserves::holding::Entry::parse(e);
        }
    }
});
