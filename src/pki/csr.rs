//! Certificate signing requests: build, write, parse (openssl-made too), verify.

use const_oid::ObjectIdentifier;
use der::asn1::{Any, SetOfVec};
use der::{Decode, Encode};
use x509_cert::attr::Attribute;
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages, SubjectAltName};
use x509_cert::name::Name;
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};
use x509_cert::spki::SubjectPublicKeyInfoOwned;

use super::algorithm::SignatureAlgorithm;
use super::error::{Error, Result};
use super::ext;
use super::key::Key;
use super::name::DistinguishedName;
use super::pem;
use super::profile;
use super::pubkey::PublicKey;
use super::san::San;

/// PKCS#9 extensionRequest.
const EXTENSION_REQUEST: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14");
/// Microsoft's older extensionRequest OID, still written by some tools.
const MS_EXTENSION_REQUEST: ObjectIdentifier =
    ObjectIdentifier::new_unwrap("1.3.6.1.4.1.311.2.1.14");

/// What goes into a new CSR.
#[derive(Debug, Clone, Default)]
pub struct CsrParams {
    /// The requested subject.
    pub subject: DistinguishedName,
    /// Requested subject alternative names.
    pub sans: Vec<San>,
    /// Whether the requested SAN extension is critical (CockroachDB's node.cnf asks for it).
    /// `None`: critical only when the subject is empty.
    pub san_critical: Option<bool>,
    /// Requested keyUsage bits (`None`: the extension is not requested).
    pub key_usage: Option<Vec<KeyUsages>>,
    /// Whether the requested keyUsage is critical.
    pub key_usage_critical: bool,
    /// Requested extended key usages (`None`: the extension is not requested).
    pub ext_key_usage: Option<Vec<ObjectIdentifier>>,
    /// Whether the requested extendedKeyUsage is critical.
    pub ext_key_usage_critical: bool,
    /// Requested basicConstraints (`None`: not requested).
    pub basic_constraints: Option<profile::BasicConstraints>,
}

impl CsrParams {
    /// The extensions to request, encoded, in the order pkirun writes them: subjectAltName,
    /// keyUsage, extendedKeyUsage, basicConstraints.
    ///
    /// # Errors
    /// A SAN DER cannot carry, or an encoding failure.
    pub fn extensions(&self) -> Result<Vec<Extension>> {
        let mut exts = Vec::new();
        if !self.sans.is_empty() {
            let critical = self.san_critical.unwrap_or(self.subject.is_empty());
            exts.push(ext::subject_alt_name(&self.sans, critical)?);
        }
        if let Some(ku) = &self.key_usage {
            exts.push(ext::key_usage(ku, self.key_usage_critical)?);
        }
        if let Some(eku) = &self.ext_key_usage {
            exts.push(ext::ext_key_usage(eku, self.ext_key_usage_critical)?);
        }
        if let Some(bc) = &self.basic_constraints {
            exts.push(ext::basic_constraints(bc)?);
        }
        Ok(exts)
    }
}

/// A parsed and verified certificate signing request.
#[derive(Debug, Clone)]
pub struct Csr {
    der: Vec<u8>,
    signature_oid: const_oid::ObjectIdentifier,
    subject_der: Vec<u8>,
    spki_der: Vec<u8>,
    extensions: Vec<Extension>,
}

impl Csr {
    /// Builds and signs a CSR with `key`.
    ///
    /// # Errors
    /// Encoding or signing failure.
    pub fn new(key: &Key, params: &CsrParams) -> Result<Self> {
        let exts = params.extensions()?;
        let mut attributes = SetOfVec::new();
        if !exts.is_empty() {
            let value = Any::from_der(&ExtensionReq(exts).to_der()?)?;
            attributes.insert(Attribute {
                oid: EXTENSION_REQUEST,
                values: SetOfVec::try_from(vec![value])?,
            })?;
        }
        let info = CertReqInfo {
            version: Version::V1,
            subject: Name::from_der(&params.subject.to_der()?)?,
            public_key: SubjectPublicKeyInfoOwned::from_der(key.public_key_der())?,
            attributes,
        };
        let info_der = info.to_der()?;
        let signature = key.sign(&info_der)?;
        let alg = spki::AlgorithmIdentifierOwned::from_der(&key.signature_algorithm().to_der()?)?;
        let req = CertReq {
            info,
            algorithm: alg,
            signature: der::asn1::BitString::from_bytes(&signature)?,
        };
        // Signed a moment ago with our own key: parsing back without verifying saves a
        // signature verification (0.9 ms for P-384) per CSR.
        Self::parse(&req.to_der()?, false)
    }

    /// Parses DER and verifies the request's self-signature.
    ///
    /// # Errors
    /// Undecodable DER, an unsupported key or signature algorithm, or a bad signature.
    pub fn from_der(der: &[u8]) -> Result<Self> {
        Self::parse(der, true)
    }

    fn parse(der: &[u8], verify: bool) -> Result<Self> {
        let bad = |e: &dyn std::fmt::Display| Error::InvalidCsr(e.to_string());
        // A request with lengths in a longer form than needed (BER, which OpenSSL accepts) is
        // read from a copy with minimal ones; its signature is checked over its own bytes.
        let req = match CertReq::from_der(der) {
            Ok(req) => req,
            Err(e) => super::tlv::with_minimal_lengths(der)
                .and_then(|copy| CertReq::from_der(&copy).ok())
                .ok_or_else(|| bad(&e))?,
        };
        let spki_der = req.info.public_key.to_der()?;
        let alg = SignatureAlgorithm::from_oid(req.algorithm.oid).ok_or_else(|| {
            Error::InvalidCsr(format!(
                "unsupported signature algorithm {}",
                req.algorithm.oid
            ))
        })?;
        let public = PublicKey::from_spki_der(&spki_der)?;
        let sig = req
            .signature
            .as_bytes()
            .ok_or_else(|| Error::InvalidCsr("signature has unused bits".into()))?;
        let signed = super::tlv::signed_part(der).ok_or_else(|| bad(&"no request info"))?;
        if verify && !public.verify(alg, signed, sig) {
            return Err(Error::BadCsrSignature);
        }
        let mut extensions = Vec::new();
        for attr in req.info.attributes.iter() {
            if attr.oid == EXTENSION_REQUEST || attr.oid == MS_EXTENSION_REQUEST {
                for value in attr.values.iter() {
                    let exts = ExtensionReq::from_der(&value.to_der()?).map_err(|e| bad(&e))?;
                    extensions.extend(exts.0);
                }
            }
        }
        Ok(Csr {
            der: der.to_vec(),
            signature_oid: req.algorithm.oid,
            subject_der: req.info.subject.to_der()?,
            spki_der,
            extensions,
        })
    }

    /// Parses the first `CERTIFICATE REQUEST` (or `NEW CERTIFICATE REQUEST`) block.
    ///
    /// # Errors
    /// Malformed PEM, no request block, or the errors of [`Csr::from_der`].
    pub fn from_pem(text: &[u8]) -> Result<Self> {
        let blocks = pem::parse_blocks(text)?;
        let found = pem::PemBlock::labels(&blocks);
        let block = blocks
            .into_iter()
            .find(|b| b.label == "CERTIFICATE REQUEST" || b.label == "NEW CERTIFICATE REQUEST")
            .ok_or(Error::NoPemBlock {
                expected: "certificate request",
                found,
            })?;
        Self::from_der(&block.der)
    }

    /// The DER encoding.
    #[must_use]
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// PEM text (`-----BEGIN CERTIFICATE REQUEST-----`, as openssl writes it).
    #[must_use]
    pub fn pem(&self) -> String {
        pem::encode("CERTIFICATE REQUEST", &self.der)
    }

    /// The OID of the algorithm the request is self-signed with.
    #[must_use]
    pub fn signature_algorithm_oid(&self) -> const_oid::ObjectIdentifier {
        self.signature_oid
    }

    /// The requested subject's exact DER.
    #[must_use]
    pub fn subject_der(&self) -> &[u8] {
        &self.subject_der
    }

    /// The requested subject.
    ///
    /// # Errors
    /// Never for a parsed request.
    pub fn subject(&self) -> Result<DistinguishedName> {
        DistinguishedName::from_der(&self.subject_der)
    }

    /// The DER `SubjectPublicKeyInfo`.
    #[must_use]
    pub fn public_key_der(&self) -> &[u8] {
        &self.spki_der
    }

    /// The requested extensions, in request order.
    #[must_use]
    pub fn extensions(&self) -> &[Extension] {
        &self.extensions
    }

    /// The requested SANs pkirun understands.
    #[must_use]
    pub fn sans(&self) -> Vec<San> {
        use const_oid::AssociatedOid;
        self.extensions
            .iter()
            .filter(|e| e.extn_id == SubjectAltName::OID)
            .filter_map(|e| SubjectAltName::from_der(e.extn_value.as_bytes()).ok())
            .flat_map(|s| s.0.into_iter().filter_map(|g| San::from_general_name(&g)))
            .collect()
    }

    /// True when the request asks for `CA:TRUE`.
    #[must_use]
    pub fn requests_ca(&self) -> bool {
        use const_oid::AssociatedOid;
        self.extensions
            .iter()
            .filter(|e| e.extn_id == BasicConstraints::OID)
            .filter_map(|e| BasicConstraints::from_der(e.extn_value.as_bytes()).ok())
            .any(|bc| bc.ca)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::KeySpec;
    use const_oid::AssociatedOid;
    use const_oid::db::rfc5280;
    use x509_cert::ext::pkix::{ExtendedKeyUsage, KeyUsage};

    #[test]
    fn requested_extensions_are_encoded_when_the_csr_is_built() {
        let key = Key::generate(KeySpec::P256).unwrap();
        let params = CsrParams {
            subject: DistinguishedName::parse("CN=node").unwrap(),
            sans: vec![San::parse("node.example").unwrap()],
            key_usage: Some(vec![KeyUsages::DigitalSignature]),
            key_usage_critical: true,
            ext_key_usage: Some(vec![rfc5280::ID_KP_CLIENT_AUTH]),
            basic_constraints: Some(profile::BasicConstraints {
                ca: false,
                path_len: None,
                critical: true,
            }),
            ..CsrParams::default()
        };
        let csr = Csr::from_der(Csr::new(&key, &params).unwrap().der()).unwrap();
        let exts = csr.extensions();
        let ids: Vec<_> = exts.iter().map(|e| (e.extn_id, e.critical)).collect();
        assert_eq!(
            ids,
            [
                (SubjectAltName::OID, false),
                (KeyUsage::OID, true),
                (ExtendedKeyUsage::OID, false),
                (BasicConstraints::OID, true)
            ]
        );
        let ku = KeyUsage::from_der(exts[1].extn_value.as_bytes()).unwrap();
        assert!(ku.digital_signature() && !ku.key_encipherment());
        let eku = ExtendedKeyUsage::from_der(exts[2].extn_value.as_bytes()).unwrap();
        assert_eq!(eku.0, [rfc5280::ID_KP_CLIENT_AUTH]);
        assert!(!csr.requests_ca());
        assert!(
            Csr::new(&key, &CsrParams::default())
                .unwrap()
                .extensions()
                .is_empty(),
            "nothing requested, no extensionRequest"
        );
    }
}
