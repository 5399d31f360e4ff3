//! Who signs for the exchange: a key file (plain or passphrase-encrypted) or a PKCS#11 token.
//!
//! Exchanges keep signing keys in HSMs; a key that never leaves the token cannot be copied off
//! the build machine. The library signs through [`ExchangeSigner`], so attestations, reserves
//! statements and key handovers are made the same way whichever holds the key.

use crate::keys::{read_key_file, Secret, SecretSource};
use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as P11Error, RvError};
use cryptoki::mechanism::eddsa::{EddsaParams, EddsaSignatureScheme};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use por_verifier::error::{Error, Result};
use std::path::PathBuf;

/// Signs on the exchange's behalf. Fallible, because a token can be unplugged, locked or wrong.
pub trait ExchangeSigner {
    /// The ed25519 public key that verifiers pin.
    fn public_key(&self) -> [u8; 32];
    /// An ed25519 signature of `message` under [`Self::public_key`].
    fn sign(&self, message: &[u8]) -> Result<Signature>;
}

/// A key in memory: tests, small setups, and key files once read.
impl ExchangeSigner for SigningKey {
    fn public_key(&self) -> [u8; 32] {
        self.verifying_key().to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        Ok(ed25519_dalek::Signer::sign(self, message))
    }
}

/// The old key's handover of `exchange` to the key `new_public` from `period` on, as
/// `build --rotation` takes it (spec: the rotation message of por-verifier's history).
pub fn handover(
    old: &dyn ExchangeSigner,
    new_public: [u8; 32],
    exchange: &str,
    period: &str,
) -> Result<por_verifier::history::KeyRotation> {
    let msg = por_verifier::history::rotation_message(exchange, period, &new_public);
    Ok(por_verifier::history::KeyRotation {
        old_key: old.public_key(),
        signature: old.sign(&msg)?.to_bytes(),
    })
}

/// Where the key is, as the command line names it: `--key FILE` or `--signer pkcs11:...`.
#[derive(Debug, Clone)]
pub enum KeySource {
    /// A key file written by `keygen` (plain hex, or age-encrypted under a passphrase).
    File(PathBuf),
    /// A key pair in a PKCS#11 token.
    Token(TokenSpec),
}

impl KeySource {
    /// `--key` or `--signer`, exactly one (the command line enforces it; this says it again
    /// for library callers).
    pub fn from_flags(key: Option<PathBuf>, signer: Option<&str>, what: &str) -> Result<Self> {
        match (key, signer) {
            (Some(p), None) => Ok(KeySource::File(p)),
            (None, Some(s)) => Ok(KeySource::Token(TokenSpec::parse(s)?)),
            _ => Err(Error::input(format!(
                "{what}: give exactly one of a key file or a --signer token"
            ))),
        }
    }

    /// Opens the key for signing, asking for the passphrase or PIN from `secrets` only if this
    /// key needs one.
    pub fn open(&self, secrets: &Secrets) -> Result<Box<dyn ExchangeSigner>> {
        match self {
            KeySource::File(p) => Ok(Box::new(read_key_file(p, &secrets.passphrase)?)),
            KeySource::Token(t) => Ok(Box::new(Pkcs11Signer::open(t, &secrets.pin)?)),
        }
    }
}

/// Where the passphrase of an encrypted key file and the PIN of a token come from.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// For encrypted key files.
    pub passphrase: SecretSource,
    /// For PKCS#11 tokens.
    pub pin: SecretSource,
}

impl Secrets {
    /// From `--passphrase-file` and `--pin-file`, else the environment, else a terminal prompt.
    pub fn new(passphrase_file: Option<PathBuf>, pin_file: Option<PathBuf>) -> Secrets {
        Secrets {
            passphrase: SecretSource::passphrase(passphrase_file),
            pin: SecretSource::pin(pin_file),
        }
    }
}

/// A key in a PKCS#11 token: `pkcs11:module=PATH;token=LABEL;key=LABEL`.
///
/// RFC 7512's names are accepted too (`object` for `key`, `module-path` in the path or the
/// query), with `%XX` escapes. The module may also come from `POR_PKCS11_MODULE`, so that a
/// cron line names only the token and the key. A PIN is never part of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenSpec {
    /// The vendor's PKCS#11 library (e.g. /usr/lib/softhsm/libsofthsm2.so).
    pub module: PathBuf,
    /// The token's label.
    pub token: String,
    /// The key's label (CKA_LABEL of both halves of the pair).
    pub key: String,
}

/// The environment variable naming the PKCS#11 module when the spec does not.
pub const MODULE_ENV: &str = "POR_PKCS11_MODULE";

impl TokenSpec {
    /// Parses a `--signer` value.
    pub fn parse(text: &str) -> Result<TokenSpec> {
        // The value is never echoed: a careless one may hold a PIN.
        let bad = |m: String| Error::input(format!("--signer: {m}"));
        let rest = text
            .strip_prefix("pkcs11:")
            .ok_or_else(|| bad("expected pkcs11:module=PATH;token=LABEL;key=LABEL".to_string()))?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let names = path.split(';').chain(query.split('&'));
        if names
            .map(|a| a.split('=').next().unwrap_or(""))
            .any(|n| n == "pin-value" || n == "pin" || n == "pin-source")
        {
            return Err(bad(
                "a PIN does not belong on the command line (other users can read it): \
                 give --pin-file FILE or set POR_PKCS11_PIN"
                    .to_string(),
            ));
        }
        let mut module = None;
        let mut token = None;
        let mut key = None;
        let attrs = path
            .split(';')
            .chain(query.split('&'))
            .filter(|a| !a.is_empty());
        for attr in attrs {
            let (name, value) = attr
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=VALUE attributes separated by ;".to_string()))?;
            let value =
                percent_decode(value).ok_or_else(|| bad(format!("{name}: bad %-escape")))?;
            let slot = match name {
                "module" | "module-path" => &mut module,
                "token" => &mut token,
                "key" | "object" => &mut key,
                other => {
                    return Err(bad(format!(
                        "unknown attribute {other:?} (expected module, token, key)"
                    )))
                }
            };
            if slot.replace(value).is_some() {
                return Err(bad(format!("{name} given twice")));
            }
        }
        let module = match module {
            Some(m) => m,
            None => std::env::var(MODULE_ENV)
                .map_err(|_| bad(format!("no module: add module=PATH or set {MODULE_ENV}")))?,
        };
        let need = |v: Option<String>, n: &str| {
            v.filter(|s| !s.is_empty())
                .ok_or_else(|| bad(format!("no {n}: add {n}=LABEL")))
        };
        Ok(TokenSpec {
            module: PathBuf::from(module),
            token: need(token, "token")?,
            key: need(key, "key")?,
        })
    }

    /// How messages name the key: never with the PIN.
    pub fn describe(&self) -> String {
        format!(
            "key {:?} on token {:?} ({})",
            self.key,
            self.token,
            self.module.display()
        )
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(h, 16).ok()?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// The DER of the curve for CKA_EC_PARAMS, as RFC 8410 names it (the OID id-Ed25519), then as
/// PKCS#11 3.0 first did (the printable string "edwards25519"), for tokens that know only one.
const ED25519_PARAMS: [&[u8]; 2] = [
    &[0x06, 0x03, 0x2b, 0x65, 0x70],
    &[
        0x13, 0x0c, b'e', b'd', b'w', b'a', b'r', b'd', b's', b'2', b'5', b'5', b'1', b'9',
    ],
];

/// An ed25519 key pair in a PKCS#11 token, logged in for the life of this value.
pub struct Pkcs11Signer {
    // Fields drop in order: the session closes before the module is finalised.
    session: Session,
    key: ObjectHandle,
    public: VerifyingKey,
    what: String,
    _ctx: Pkcs11,
}

impl Pkcs11Signer {
    /// Loads the module, finds the token, logs in with the PIN from `pin` and finds the key.
    pub fn open(spec: &TokenSpec, pin: &SecretSource) -> Result<Pkcs11Signer> {
        let what = spec.describe();
        let (ctx, slot) = load(spec)?;
        need_mechanism(&ctx, slot, MechanismType::EDDSA, "CKM_EDDSA", spec)?;
        let session = login(&ctx, slot, spec, pin, false)?;
        let key = match find(&session, ObjectClass::PRIVATE_KEY, &spec.key, &what)? {
            Some(k) => k,
            None => {
                return Err(Error::input(format!(
                    "{what}: no private key with this label (create one with \
                     `por-prove keygen --signer ...`)"
                )))
            }
        };
        let public = match find(&session, ObjectClass::PUBLIC_KEY, &spec.key, &what)? {
            Some(p) => public_of(&session, p, &what)?,
            None => {
                return Err(Error::input(format!(
                    "{what}: no public key with this label beside the private key (the public \
                     key is needed to check what the token signs)"
                )))
            }
        };
        Ok(Pkcs11Signer {
            _ctx: ctx,
            session,
            key,
            public,
            what,
        })
    }

    /// Generates an ed25519 key pair inside the token under `spec.key`: the private half
    /// sensitive and never extractable, so it cannot leave the token. Refuses a label already
    /// in use (a key is never silently replaced). Returns the public key.
    pub fn generate(spec: &TokenSpec, pin: &SecretSource) -> Result<[u8; 32]> {
        let what = spec.describe();
        let (ctx, slot) = load(spec)?;
        need_mechanism(
            &ctx,
            slot,
            MechanismType::ECC_EDWARDS_KEY_PAIR_GEN,
            "CKM_EC_EDWARDS_KEY_PAIR_GEN",
            spec,
        )?;
        need_mechanism(&ctx, slot, MechanismType::EDDSA, "CKM_EDDSA", spec)?;
        let session = login(&ctx, slot, spec, pin, true)?;
        let taken = session
            .find_objects(&[Attribute::Label(spec.key.as_bytes().to_vec())])
            .map_err(|e| p11(&what, "cannot search the token", e))?;
        if !taken.is_empty() {
            return Err(Error::input(format!(
                "{what}: a key with this label already exists; refusing to replace a key \
                 (choose another label)"
            )));
        }
        let id = crate::random::bytes32()?[..16].to_vec();
        let label = spec.key.as_bytes().to_vec();
        let private = [
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Sign(true),
            Attribute::Label(label.clone()),
            Attribute::Id(id.clone()),
        ];
        let mut last = None;
        for params in ED25519_PARAMS {
            let public = [
                Attribute::Token(true),
                Attribute::Verify(true),
                Attribute::EcParams(params.to_vec()),
                Attribute::Label(label.clone()),
                Attribute::Id(id.clone()),
            ];
            match session.generate_key_pair(&Mechanism::EccEdwardsKeyPairGen, &public, &private) {
                Ok((pub_handle, _)) => {
                    let key = public_of(&session, pub_handle, &what)?;
                    return Ok(key.to_bytes());
                }
                Err(P11Error::Pkcs11(
                    RvError::AttributeValueInvalid | RvError::CurveNotSupported,
                    _,
                )) => last = Some("the token accepts neither DER name of edwards25519"),
                Err(e) => return Err(p11(&what, "cannot generate the key pair", e)),
            }
        }
        Err(Error::input(format!(
            "{what}: cannot generate an ed25519 key: {}",
            last.unwrap_or("unsupported")
        )))
    }
}

impl ExchangeSigner for Pkcs11Signer {
    fn public_key(&self) -> [u8; 32] {
        self.public.to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Result<Signature> {
        let mech = Mechanism::Eddsa(EddsaParams::new(EddsaSignatureScheme::Pure));
        let bytes = self
            .session
            .sign(&mech, self.key, message)
            .map_err(|e| p11(&self.what, "cannot sign", e))?;
        let sig = Signature::from_slice(&bytes).map_err(|_| {
            Error::input(format!(
                "{}: the token returned {} bytes, not an ed25519 signature; nothing was signed",
                self.what,
                bytes.len()
            ))
        })?;
        // A token that returns garbage (a wrong key, a firmware bug) must not yield a published
        // attestation that every customer then rejects: checked here, before anything is written.
        self.public.verify_strict(message, &sig).map_err(|_| {
            Error::input(format!(
                "{}: the token's signature does not verify under its public key {}; nothing was \
                 signed",
                self.what,
                hex::encode(self.public.to_bytes())
            ))
        })?;
        Ok(sig)
    }
}

fn p11(what: &str, doing: &str, e: P11Error) -> Error {
    let why = match &e {
        P11Error::Pkcs11(rv, _) => match rv {
            RvError::PinIncorrect => "wrong PIN (CKR_PIN_INCORRECT)".to_string(),
            RvError::PinLocked => "the PIN is locked (CKR_PIN_LOCKED)".to_string(),
            RvError::PinLenRange => "the PIN has the wrong length (CKR_PIN_LEN_RANGE)".to_string(),
            RvError::PinExpired => "the PIN has expired (CKR_PIN_EXPIRED)".to_string(),
            RvError::MechanismInvalid => {
                "the token does not support this mechanism (CKR_MECHANISM_INVALID)".to_string()
            }
            RvError::TokenNotPresent => {
                "the token is not present (CKR_TOKEN_NOT_PRESENT)".to_string()
            }
            RvError::UserNotLoggedIn => "not logged in (CKR_USER_NOT_LOGGED_IN)".to_string(),
            RvError::KeyFunctionNotPermitted => {
                "the key may not sign (CKA_SIGN is false: CKR_KEY_FUNCTION_NOT_PERMITTED)"
                    .to_string()
            }
            other => format!("PKCS#11 error {other:?}"),
        },
        other => other.to_string(),
    };
    Error::input(format!("{what}: {doing}: {why}"))
}

/// Loads and initialises the module and finds the slot of the token with the spec's label.
fn load(spec: &TokenSpec) -> Result<(Pkcs11, Slot)> {
    let module = &spec.module;
    if !module.is_file() {
        return Err(Error::input(format!(
            "PKCS#11 module {}: no such file (give module=PATH of your token's library)",
            module.display()
        )));
    }
    let ctx = Pkcs11::new(module).map_err(|e| {
        Error::input(format!(
            "PKCS#11 module {}: cannot load: {e}",
            module.display()
        ))
    })?;
    match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
        Ok(()) => {}
        Err(P11Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
        Err(e) => {
            return Err(Error::input(format!(
                "PKCS#11 module {}: cannot initialise: {e}",
                module.display()
            )))
        }
    }
    let slots = ctx
        .get_slots_with_initialized_token()
        .map_err(|e| p11(&spec.describe(), "cannot list the slots", e))?;
    let mut labels = Vec::new();
    for slot in slots {
        let Ok(info) = ctx.get_token_info(slot) else {
            continue;
        };
        let label = info.label().trim_end().to_string();
        if label == spec.token {
            return Ok((ctx, slot));
        }
        labels.push(format!("{label:?}"));
    }
    Err(Error::input(format!(
        "PKCS#11 module {}: no token labelled {:?} (tokens present: {})",
        module.display(),
        spec.token,
        if labels.is_empty() {
            "none".to_string()
        } else {
            labels.join(", ")
        }
    )))
}

fn need_mechanism(
    ctx: &Pkcs11,
    slot: Slot,
    m: MechanismType,
    name: &str,
    spec: &TokenSpec,
) -> Result<()> {
    let list = ctx
        .get_mechanism_list(slot)
        .map_err(|e| p11(&spec.describe(), "cannot list the mechanisms", e))?;
    if list.contains(&m) {
        return Ok(());
    }
    Err(Error::input(format!(
        "token {:?} ({}): does not support {name}, which ed25519 needs",
        spec.token,
        spec.module.display()
    )))
}

fn login(
    ctx: &Pkcs11,
    slot: Slot,
    spec: &TokenSpec,
    pin: &SecretSource,
    rw: bool,
) -> Result<Session> {
    let what = format!("token {:?} ({})", spec.token, spec.module.display());
    let session = if rw {
        ctx.open_rw_session(slot)
    } else {
        ctx.open_ro_session(slot)
    }
    .map_err(|e| p11(&what, "cannot open a session", e))?;
    let secret: Secret = pin.get(&format!("PIN for token {:?}: ", spec.token))?;
    let auth = cryptoki::types::AuthPin::new(secret.expose().into());
    match session.login(UserType::User, Some(&auth)) {
        Ok(()) | Err(P11Error::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => Ok(session),
        Err(e) => Err(p11(&what, "cannot log in", e)),
    }
}

/// The one object of `class` labelled `label`; two are ambiguous, so refused.
fn find(
    session: &Session,
    class: ObjectClass,
    label: &str,
    what: &str,
) -> Result<Option<ObjectHandle>> {
    let found = session
        .find_objects(&[
            Attribute::Class(class),
            Attribute::KeyType(KeyType::EC_EDWARDS),
            Attribute::Label(label.as_bytes().to_vec()),
        ])
        .map_err(|e| p11(what, "cannot search the token", e))?;
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(*one)),
        many => Err(Error::input(format!(
            "{what}: {} objects of class {class} carry this label; cannot tell which to use",
            many.len()
        ))),
    }
}

/// The 32 bytes of an ed25519 public key object: CKA_EC_POINT, a DER OCTET STRING as PKCS#11
/// says, or the raw bytes as some tokens give it.
fn public_of(session: &Session, handle: ObjectHandle, what: &str) -> Result<VerifyingKey> {
    let attrs = session
        .get_attributes(handle, &[AttributeType::EcPoint])
        .map_err(|e| p11(what, "cannot read the public key", e))?;
    let point = attrs.into_iter().find_map(|a| match a {
        Attribute::EcPoint(p) => Some(p),
        _ => None,
    });
    let point =
        point.ok_or_else(|| Error::input(format!("{what}: the public key has no CKA_EC_POINT")))?;
    let raw = ec_point_bytes(&point).ok_or_else(|| {
        Error::input(format!(
            "{what}: CKA_EC_POINT of {} bytes is not an ed25519 public key",
            point.len()
        ))
    })?;
    VerifyingKey::from_bytes(&raw).map_err(|_| {
        Error::input(format!(
            "{what}: the public key is not a valid ed25519 point"
        ))
    })
}

/// The 32 key bytes of CKA_EC_POINT, DER-wrapped (`04 20 ...`) or raw.
pub fn ec_point_bytes(point: &[u8]) -> Option<[u8; 32]> {
    match point {
        [0x04, 0x20, rest @ ..] if rest.len() == 32 => rest.try_into().ok(),
        raw if raw.len() == 32 => raw.try_into().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let s = TokenSpec::parse("pkcs11:module=/m.so;token=por;key=attest").unwrap();
        assert_eq!(s.module, PathBuf::from("/m.so"));
        assert_eq!((s.token.as_str(), s.key.as_str()), ("por", "attest"));
        let s = TokenSpec::parse("pkcs11:token=my%20hsm;object=k?module-path=/m.so").unwrap();
        assert_eq!(s.token, "my hsm");
        assert_eq!(s.key, "k");
        for bad in [
            "module=/m.so;token=a;key=b",
            "pkcs11:module=/m.so;token=a",
            "pkcs11:module=/m.so;token=a;key=b;colour=red",
            "pkcs11:module=/m.so;token=a;key=b;key=c",
            "pkcs11:module=/m.so;token=a;key=%zz",
            "pkcs11:module=/m.so;token=a;key",
        ] {
            assert!(TokenSpec::parse(bad).is_err(), "{bad}");
        }
        let e = TokenSpec::parse("pkcs11:module=/m.so;token=a;key=b;pin-value=1234").unwrap_err();
        assert!(!e.to_string().contains("1234"), "{e}");
    }

    #[test]
    fn ec_points() {
        let mut der = vec![0x04, 0x20];
        der.extend([7u8; 32]);
        assert_eq!(ec_point_bytes(&der), Some([7; 32]));
        assert_eq!(ec_point_bytes(&[9; 32]), Some([9; 32]));
        assert_eq!(ec_point_bytes(&[0x04, 0x20, 1]), None);
        assert_eq!(ec_point_bytes(&[0; 57]), None);
    }

    #[test]
    fn a_key_in_memory_signs() {
        let k = SigningKey::from_bytes(&[3; 32]);
        let s: &dyn ExchangeSigner = &k;
        let sig = s.sign(b"m").unwrap();
        assert!(k.verifying_key().verify_strict(b"m", &sig).is_ok());
        assert_eq!(s.public_key(), k.verifying_key().to_bytes());
    }
}
