//! Points and scalars as bytes: a point is its 32-byte compressed form (arkworks' encoding:
//! the x coordinate little-endian, the y sign in the top bit), a scalar 32 bytes little-endian.
//! Decoding accepts only canonical encodings of points on the curve (BN254's G1 has cofactor
//! 1: every point on the curve is in the group), and the identity only where a caller allows it.

use crate::{FormatError, Point, Scalar};
use ark_ec::AffineRepr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};

/// Bytes of an encoded point.
pub const POINT_BYTES: usize = 32;
/// Bytes of an encoded scalar.
pub const SCALAR_BYTES: usize = 32;

/// The 32-byte encoding of a point.
pub fn point_bytes(p: &Point) -> [u8; POINT_BYTES] {
    // Written in place (the tree build encodes every commitment): a compressed point is
    // exactly 32 bytes, so writing cannot fail.
    let mut b = [0u8; POINT_BYTES];
    let _ = p.serialize_compressed(&mut b[..]);
    b
}

/// Decodes a point; `what` names it in the error. The identity is refused unless `identity`.
pub fn decode_point(bytes: &[u8], what: &str, identity: bool) -> Result<Point, FormatError> {
    if bytes.len() != POINT_BYTES {
        return Err(FormatError(format!(
            "{what}: expected {POINT_BYTES} bytes, found {}",
            bytes.len()
        )));
    }
    let p = Point::deserialize_compressed(bytes).map_err(|_| {
        FormatError(format!(
            "{what}: not a canonical encoding of a point on BN254 G1"
        ))
    })?;
    // The decoder reduces nothing, but a second encoding must give the same bytes.
    if point_bytes(&p) != bytes {
        return Err(FormatError(format!(
            "{what}: not the canonical encoding of its point"
        )));
    }
    if p.is_zero() && !identity {
        return Err(FormatError(format!(
            "{what}: the identity point is not allowed here"
        )));
    }
    Ok(p)
}

/// The 32-byte encoding of a scalar.
pub fn scalar_bytes(s: &Scalar) -> [u8; SCALAR_BYTES] {
    let mut b = [0u8; SCALAR_BYTES];
    b.copy_from_slice(&s.into_bigint().to_bytes_le());
    b
}

/// Decodes a scalar, refusing values at or above the group order.
pub fn decode_scalar(bytes: &[u8], what: &str) -> Result<Scalar, FormatError> {
    if bytes.len() != SCALAR_BYTES {
        return Err(FormatError(format!(
            "{what}: expected {SCALAR_BYTES} bytes, found {}",
            bytes.len()
        )));
    }
    let s = Scalar::from_le_bytes_mod_order(bytes);
    if scalar_bytes(&s) != bytes {
        return Err(FormatError(format!(
            "{what}: not a canonical scalar (at or above the group order)"
        )));
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ec::CurveGroup;

    #[test]
    fn round_trips_and_rejects_non_canonical() {
        let g = (Point::generator() * Scalar::from(7u64)).into_affine();
        let b = point_bytes(&g);
        assert_eq!(decode_point(&b, "p", false).unwrap(), g);
        // Not on the curve: most x coordinates.
        let mut off = b;
        off[0] ^= 1;
        let mut rejected = 0;
        for i in 0..8u8 {
            off[1] = i;
            if decode_point(&off, "p", false).is_err() {
                rejected += 1;
            }
        }
        assert!(rejected > 0);
        // x at or above the field modulus.
        let mut big = [0xffu8; 32];
        big[31] &= 0x3f;
        assert!(decode_point(&big, "p", false).is_err());
        // The identity, only where allowed.
        let id = point_bytes(&Point::zero());
        assert!(decode_point(&id, "p", false).is_err());
        assert!(decode_point(&id, "p", true).is_ok());
        assert!(decode_point(&b[..31], "p", false).is_err());
        // Scalars: the order itself is refused, order - 1 accepted.
        let order = Scalar::MODULUS.to_bytes_le();
        assert!(decode_scalar(&order, "s").is_err());
        let m1 = scalar_bytes(&(-Scalar::from(1u64)));
        assert_eq!(decode_scalar(&m1, "s").unwrap(), -Scalar::from(1u64));
    }

    #[test]
    fn the_encoding_is_as_spec_md_says() {
        // x little-endian; bit 7 of the last byte when y is the larger root; bit 6: identity.
        let p = (Point::generator() * Scalar::from(12345u64)).into_affine();
        for q in [p, -p] {
            let b = point_bytes(&q);
            let (x, y) = q.xy().unwrap();
            let mut xb = x.into_bigint().to_bytes_le();
            let larger = y.into_bigint() > (-y).into_bigint();
            if larger {
                xb[31] |= 0x80;
            }
            assert_eq!(b.to_vec(), xb);
        }
        let id = point_bytes(&Point::zero());
        assert_eq!(id[31] & 0x40, 0x40);
        assert!(id[..31].iter().all(|&x| x == 0));
    }
}
