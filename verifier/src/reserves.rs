//! The reserves section of the attestation (filled in by the reserves work).

use crate::asset::Asset;
use crate::error::{Error, Result};

/// The on-chain reserves the exchange claims.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reserves {}

impl Reserves {
    /// Parses the JSON form.
    pub fn from_json_value(_v: serde_json::Value, _assets: &[Asset]) -> Result<Reserves> {
        Err(Error::input(
            "reserves sections are not supported by this version",
        ))
    }

    /// The JSON form.
    pub fn to_json_value(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// Appends the canonical encoding.
    pub fn encode(&self, _out: &mut Vec<u8>) {}
}
