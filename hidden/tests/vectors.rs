//! spec/vectors/hidden.json: the generators, a commitment, one leaf, one padding node and
//! their parent, and a whole range proof, checked
//! byte by byte. After a deliberate change: `POR_BLESS=1 cargo test -p por-hidden --test vectors`.
//!
//! A range proof's blindings are fresh randomness, so its bytes cannot be a fixed vector: the
//! stored proof is checked to verify against the stored commitments, and to fail against any
//! other.

use merlin::Transcript;
use por_hidden::encoding::{decode_point, point_bytes, scalar_bytes};
use por_hidden::generators::{hash_to_point, Generators, DOMAIN};
use por_hidden::range::{prove, verify, RangeProof};
use por_hidden::Scalar;
use serde_json::{json, Value};

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

#[test]
fn vectors_match_spec() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/vectors/hidden.json");
    let gens = Generators::get();
    let first = |label: &[u8]| -> Vec<String> {
        (0..4)
            .map(|i| hex(&point_bytes(&hash_to_point(label, i))))
            .collect()
    };
    let v = Scalar::from(150_000_000u64);
    let r = Scalar::from(42u64);
    let computed = json!({
        "domain": String::from_utf8_lossy(DOMAIN),
        "G": hex(&point_bytes(&gens.g)),
        "H": hex(&point_bytes(&gens.h)),
        "G_vec[0..4]": first(b"G_vec"),
        "H_vec[0..4]": first(b"H_vec"),
        "commitment": {
            "value": "150000000", "blinding": hex(&scalar_bytes(&r)),
            "C": hex(&point_bytes(&gens.commit(v, r))),
        },
    });
    // One leaf, one padding node beside it, their parent.
    let key = [0x11u8; 32];
    let leaf = por_hidden::node::leaf(gens, &key, 6, &[0x22; 32], &[150_000_000, 2]);
    let pad = por_hidden::node::padding(gens, &key, [0x33; 32], 0, 7, 2);
    let parent = por_hidden::node::parent(&leaf, &pad).unwrap();
    let node_json = |n: &por_hidden::node::OpenedNode| {
        json!({
            "hash": hex(&n.node.hash),
            "commitments": n.node.commitments.iter().map(|c| hex(&point_bytes(c))).collect::<Vec<_>>(),
            "blindings": n.blindings.iter().map(|b| hex(&scalar_bytes(b))).collect::<Vec<_>>(),
        })
    };
    let mut computed = computed;
    computed["tree"] = json!({
        "blinding_key": hex(&key),
        "leaf": {"position": 6, "user_commitment": hex(&[0x22; 32]), "balances": ["150000000", "2"], "node": node_json(&leaf)},
        "padding": {"level": 0, "index": 7, "padding_hash": hex(&[0x33; 32]), "node": node_json(&pad)},
        "parent": node_json(&parent),
    });
    let bless = std::env::var_os("POR_BLESS").is_some();
    let mut stored: Value = if bless {
        let mut t = Transcript::new(b"por-hidden/vectors");
        let (p, c) = prove(
            gens,
            &mut t,
            &[5, 1 << 40, 0],
            &[Scalar::from(1u64), Scalar::from(2u64), Scalar::from(3u64)],
            64,
        )
        .unwrap();
        let mut all = computed.clone();
        all["range_proof"] = json!({
            "transcript_label": "por-hidden/vectors", "n": 64,
            "commitments": c.iter().map(|x| hex(&point_bytes(x))).collect::<Vec<_>>(),
            "proof": hex(&p.to_bytes()),
        });
        std::fs::write(&path, serde_json::to_string_pretty(&all).unwrap() + "\n").unwrap();
        all
    } else {
        serde_json::from_slice(&std::fs::read(&path).expect("spec/vectors/hidden.json")).unwrap()
    };
    let rp = stored
        .as_object_mut()
        .unwrap()
        .remove("range_proof")
        .expect("range_proof");
    assert_eq!(
        stored, computed,
        "generators or commitment differ from spec/vectors/hidden.json"
    );
    let commitments: Vec<_> = rp["commitments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| decode_point(&unhex(c.as_str().unwrap()), "V", false).unwrap())
        .collect();
    let proof = RangeProof::from_bytes(&unhex(rp["proof"].as_str().unwrap())).unwrap();
    verify(
        gens,
        &mut Transcript::new(b"por-hidden/vectors"),
        &proof,
        &commitments,
        64,
    )
    .unwrap();
    let mut other = commitments.clone();
    other.swap(0, 1);
    assert!(verify(
        gens,
        &mut Transcript::new(b"por-hidden/vectors"),
        &proof,
        &other,
        64
    )
    .is_err());
}
