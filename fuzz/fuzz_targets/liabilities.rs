//! A liabilities export: every row is read or refused with its line and field, never a panic,
//! under both negative-balance policies.
#![no_main]
use libfuzzer_sys::fuzz_target;
use por_core::liabilities::{LiabilitiesReader, Negatives};

fuzz_target!(|data: &[u8]| {
    for policy in [Negatives::Reject, Negatives::Clamp] {
        if let Ok(mut r) = LiabilitiesReader::new("fuzz.csv", data, policy) {
            let mut totals = por_core::liabilities::Totals::new(r.assets().len());
            let assets = r.assets().to_vec();
            while let Ok(Some(row)) = r.next_row() {
                if totals.add("fuzz.csv", &row, &assets).is_err() {
                    break;
                }
            }
        }
    }
});
