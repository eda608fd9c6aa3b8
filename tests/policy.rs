//! The signing policy (issue 12): every refusal is one line naming the field and the rule, and
//! leaves the directory as it was; each opt-out signs what it names; a CA is checked before it
//! signs.

use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier;
use const_oid::db::rfc4519;
use der::asn1::{Any, Ia5String, OctetString, SetOfVec};
use der::{Decode, Encode, Tag};
use pkirun::pki::{
    Ca, Certificate, DistinguishedName, Key, KeyFormat, KeySpec, Profile, Validity, pem,
};
use x509_cert::attr::{Attribute, AttributeTypeAndValue};
use x509_cert::ext::Extension;
use x509_cert::ext::pkix::SubjectAltName;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::request::{CertReq, CertReqInfo, ExtensionReq, Version};
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};

use crate::util::Dir;

/// A 10-year P-256 CA in `ca.pem` / `ca-key.pem`, made through the library.
fn make_ca(dir: &Dir) {
    let key = Key::generate(KeySpec::P256).unwrap();
    let profile = Profile {
        validity: Validity::days(3650).unwrap(),
        ..Profile::named("ca").unwrap()
    };
    let subject = DistinguishedName::parse("/O=Policy/CN=Policy CA").unwrap();
    let ca = Ca::self_signed(key.clone(), &subject, &profile).unwrap();
    dir.create("ca.pem", ca.cert().pem());
    dir.create("ca-key.pem", key.to_pem(KeyFormat::Pkcs8).unwrap());
}

/// A CSR signed by `key` with any subject attributes (raw bytes, so control characters and
/// over-long values get through) and any requested extensions.
fn raw_csr(key: &Key, subject: &[(ObjectIdentifier, &[u8])], exts: Vec<Extension>) -> String {
    let rdns: Vec<RelativeDistinguishedName> = subject
        .iter()
        .map(|(oid, value)| {
            let atv = AttributeTypeAndValue {
                oid: *oid,
                value: Any::new(Tag::Utf8String, *value).unwrap(),
            };
            RelativeDistinguishedName::from(SetOfVec::try_from(vec![atv]).unwrap())
        })
        .collect();
    let mut attributes = SetOfVec::new();
    if !exts.is_empty() {
        let value = Any::from_der(&ExtensionReq(exts).to_der().unwrap()).unwrap();
        attributes
            .insert(Attribute {
                oid: ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.14"),
                values: SetOfVec::try_from(vec![value]).unwrap(),
            })
            .unwrap();
    }
    let info = CertReqInfo {
        version: Version::V1,
        subject: Name::from_der(&RdnSequence::from(rdns).to_der().unwrap()).unwrap(),
        public_key: SubjectPublicKeyInfoOwned::from_der(key.public_key_der()).unwrap(),
        attributes,
    };
    let signature = key.sign(&info.to_der().unwrap()).unwrap();
    let req = CertReq {
        info,
        algorithm: AlgorithmIdentifierOwned::from_der(&key.signature_algorithm().to_der().unwrap())
            .unwrap(),
        signature: der::asn1::BitString::from_bytes(&signature).unwrap(),
    };
    pem::encode("CERTIFICATE REQUEST", &req.to_der().unwrap())
}

fn san_ext(names: Vec<GeneralName>) -> Extension {
    Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
        critical: false,
        extn_value: OctetString::new(SubjectAltName(names).to_der().unwrap()).unwrap(),
    }
}

fn dns(name: &str) -> GeneralName {
    GeneralName::DnsName(Ia5String::new(name).unwrap())
}

fn p256() -> Key {
    Key::generate(KeySpec::P256).unwrap()
}

const CN: ObjectIdentifier = rfc4519::CN;

/// The script that signs `req.csr` with `opts` and writes `req.pem`.
fn sign_script(opts: &str) -> String {
    format!(
        r#"let ca = load_ca("ca.pem", "ca-key.pem");
let crt = ca.sign(load_csr("req.csr"), {opts});
write_cert("req.pem", crt);
"#
    )
}

/// Runs `script`, expects one error line, checks nothing changed and returns the message
/// without the `error: FILE:LINE:COL: ` prefix.
#[track_caller]
fn refused(dir: &Dir, script: &str) -> String {
    let before = dir.snapshot();
    let err = dir.run_script(script, &[]).failure();
    assert_eq!(dir.snapshot(), before, "a refusal writes nothing");
    let rest = err.trim_end().split_once("script.rhai:").unwrap().1;
    // LINE:COL: message
    rest.splitn(3, ':').nth(2).unwrap().trim_start().to_string()
}

/// A directory with the CA and `req.csr` holding `csr`.
fn with_csr(csr: &str) -> Dir {
    let dir = Dir::new();
    make_ca(&dir);
    dir.create("req.csr", csr);
    dir
}

#[test]
fn a_cn_with_a_nul_byte_is_refused_and_shown_escaped() {
    let dir = with_csr(&raw_csr(&p256(), &[(CN, b"web\0.example.com")], vec![]));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "server" }"#)),
        r"refusing to sign: `subject.CN`: `web\x00.example.com` contains a control character"
    );
}

#[test]
fn a_dns_name_with_a_control_character_is_refused() {
    let dir = with_csr(&raw_csr(
        &p256(),
        &[(CN, b"web")],
        vec![san_ext(vec![
            dns("web.example.com"),
            dns("evil\n.example.com"),
        ])],
    ));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "server" }"#)),
        r"refusing to sign: `san[1]`: `DNS:evil\x0a.example.com` contains a control character"
    );
}

#[test]
fn an_ip_address_of_five_octets_is_refused_not_copied_raw() {
    let dir = with_csr(&raw_csr(
        &p256(),
        &[(CN, b"web")],
        vec![san_ext(vec![
            dns("web.example.com"),
            GeneralName::IpAddress(OctetString::new([10, 0, 0, 1, 9]).unwrap()),
        ])],
    ));
    assert_eq!(
        refused(
            &dir,
            &sign_script(r#"#{ profile: "server", allowed_names: ["*.example.com"] }"#)
        ),
        "refusing to sign: `san[1]`: an iPAddress of 5 octets (4 or 16 expected)"
    );
}

#[test]
fn an_invalid_dns_name_and_an_undecodable_san_are_refused() {
    let dir = with_csr(&raw_csr(
        &p256(),
        &[(CN, b"web")],
        vec![san_ext(vec![dns("-bad-.example.com")])],
    ));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "server" }"#)),
        "refusing to sign: `san[0]`: `DNS:-bad-.example.com` is malformed: label `-bad-` starts or ends with `-`"
    );
    let garbage = Extension {
        extn_id: const_oid::db::rfc5280::ID_CE_SUBJECT_ALT_NAME,
        critical: false,
        extn_value: OctetString::new([0x30, 0x03, 0x82, 0x05, 0x41]).unwrap(),
    };
    dir.create("req.csr", raw_csr(&p256(), &[(CN, b"web")], vec![garbage]));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "server" }"#)),
        "refusing to sign: `subjectAltName`: the requested subjectAltName does not decode"
    );
}

#[test]
fn an_empty_subject_without_san_is_refused() {
    let dir = with_csr(&raw_csr(&p256(), &[], vec![]));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "client" }"#)),
        "refusing to sign: `subject`: empty subject and no subject alternative name: the certificate would name nobody"
    );
}

#[test]
fn an_over_long_cn_is_refused_unless_allowed() {
    let long = "a".repeat(10_000);
    let dir = with_csr(&raw_csr(&p256(), &[(CN, long.as_bytes())], vec![]));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "client" }"#)),
        "refusing to sign: `subject.CN`: 10000 characters, more than RFC 5280's ub-common-name (64) (pass `allow_long_names: true` to sign it anyway)"
    );
    dir.run_script(
        &sign_script(r#"#{ profile: "client", allow_long_names: true }"#),
        &[],
    )
    .success();
    let cert = Certificate::from_pem(dir.read("req.pem").as_bytes()).unwrap();
    assert_eq!(cert.subject().unwrap().get("CN"), Some(long.as_str()));
}

#[test]
fn an_unknown_critical_extension_is_refused_never_dropped() {
    let ext = Extension {
        extn_id: ObjectIdentifier::new_unwrap("1.3.6.1.4.1.99999.1"),
        critical: true,
        extn_value: OctetString::new([0x05, 0x00]).unwrap(),
    };
    let dir = with_csr(&raw_csr(
        &p256(),
        &[(CN, b"web")],
        vec![san_ext(vec![dns("web.example.com")]), ext],
    ));
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "server" }"#)),
        "refusing to sign: `extension 1.3.6.1.4.1.99999.1`: the request marks an extension critical that pkirun does not know; it can neither honour nor drop it"
    );
}

#[test]
fn ca_true_is_refused_for_a_leaf_profile_even_without_copying() {
    let dir = Dir::new();
    make_ca(&dir);
    let script = r#"let ca = load_ca("ca.pem", "ca-key.pem");
let csr = new_csr(gen_key("ecdsa:256"), #{ subject: "/CN=sub", basic_constraints: "critical,CA:true" });
write_cert("sub.pem", ca.sign(csr, #{ profile: "server", copy_extensions: "none" }));
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign: `basicConstraints`: the request asks for CA:TRUE and the profile does not issue CAs"
    );
}

#[test]
fn weak_rsa_keys_are_refused_unless_allowed() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.openssl(&["genrsa", "-out", "weak.key", "1024"]);
    dir.openssl(&[
        "req",
        "-new",
        "-key",
        "weak.key",
        "-subj",
        "/CN=legacy",
        "-out",
        "req.csr",
    ]);
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "client" }"#)),
        "refusing to sign: `public key`: RSA 1024 is weaker than 2048 bits (pass `allow_weak_keys: true` to sign it anyway)"
    );
    dir.run_script(
        &sign_script(r#"#{ profile: "client", allow_weak_keys: true }"#),
        &[],
    )
    .success();
    dir.openssl(&["verify", "-CAfile", "ca.pem", "req.pem"]);

    dir.openssl(&[
        "genpkey",
        "-algorithm",
        "RSA",
        "-pkeyopt",
        "rsa_keygen_bits:2048",
        "-pkeyopt",
        "rsa_keygen_pubexp:3",
        "-out",
        "e3.key",
    ]);
    dir.openssl(&[
        "req", "-new", "-key", "e3.key", "-subj", "/CN=e3", "-out", "e3.csr",
    ]);
    let script = sign_script(r#"#{ profile: "client" }"#).replace("req.", "e3.");
    assert_eq!(
        refused(&dir, &script),
        "refusing to sign: `public key`: RSA public exponent 3 is not 65537 (pass `allow_weak_keys: true` to sign it anyway)"
    );
}

#[test]
fn a_sha1_signed_request_is_refused_unless_allowed() {
    let dir = Dir::new();
    make_ca(&dir);
    dir.openssl(&["genrsa", "-out", "k.key", "2048"]);
    dir.openssl(&[
        "req", "-new", "-sha1", "-key", "k.key", "-subj", "/CN=old", "-out", "req.csr",
    ]);
    assert_eq!(
        refused(&dir, &sign_script(r#"#{ profile: "client" }"#)),
        "refusing to sign: `signature`: the request is signed with SHA-1 (pass `allow_sha1: true` to sign it anyway)"
    );
    dir.run_script(
        &sign_script(r#"#{ profile: "client", allow_sha1: true }"#),
        &[],
    )
    .success();
}

#[test]
fn allowed_names_bind_every_sign_call_and_the_ca() {
    let dir = Dir::new();
    make_ca(&dir);
    // ca.sign
    let script = r#"let ca = load_ca("ca.pem", "ca-key.pem");
let csr = new_csr(gen_key("ecdsa:256"), #{ subject: "/CN=web", san: ["web.db.internal", "*.evil.example"] });
write_cert("web.pem", ca.sign(csr, #{ profile: "server", allowed_names: ["*.db.internal"] }));
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign: `san[1]`: `DNS:*.evil.example` is outside the allowed names (*.db.internal)"
    );
    // ca.issue, an IP outside the range
    let script = r#"let ca = load_ca("ca.pem", "ca-key.pem");
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "n1" }, san: ["n1.db.internal", "0.0.0.0"], profile: "peer",
                    allowed_names: ["*.db.internal", "10.0.0.0/8"] });
write_cert("n1.pem", r.cert);
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign: `san[1]`: `IP:0.0.0.0` is outside the allowed names (*.db.internal, 10.0.0.0/8)"
    );
    // a CA-wide list (load_ca) holds even when the call allows anything
    let script = r#"let ca = load_ca("ca.pem", "ca-key.pem", #{ allowed_names: ["@corp.example", "spiffe://corp/*"] });
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "svc" }, san: ["URI:spiffe://corp/ns/a", "email:x@evil.example"], profile: "client" });
write_cert("svc.pem", r.cert);
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign: `san[1]`: `email:x@evil.example` is outside the allowed names (@corp.example, spiffe://corp/*)"
    );
    // a host-like CN counts when there is no SAN
    let script = r#"let ca = load_ca("ca.pem", "ca-key.pem");
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "www.evil.example" }, profile: "server", allowed_names: ["*.db.internal"] });
write_cert("cn.pem", r.cert);
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign: `subject.CN`: `DNS:www.evil.example` is outside the allowed names (*.db.internal)"
    );
    // and what is inside is signed
    dir.run_script(
        r#"let ca = load_ca("ca.pem", "ca-key.pem", #{ allowed_names: "*.db.internal, 10.0.0.0/8" });
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "n1" }, san: ["n1.db.internal", "10.1.2.3"], profile: "peer" });
write_cert("n1.pem", r.cert);
"#,
        &[],
    )
    .success();
}

#[test]
fn new_ca_allowed_names_bind_what_it_signs_and_issue_batch_names_the_row() {
    let dir = Dir::new();
    let script = r#"let ca = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Scoped CA", days: 3650, allowed_names: ["*.db.internal"] });
ca.issue_batch([#{ name: "ok", san: ["ok.db.internal"] }, #{ name: "bad", san: ["bad.example.com"] }],
               #{ out: "certs/{name}", key: "ecdsa:256" });
"#;
    let err = dir.run_script(script, &["--quiet"]).failure();
    assert!(
        err.contains(": `bad`: refusing to sign: `san[0]`: `DNS:bad.example.com` is outside the allowed names (*.db.internal)"),
        "{err}"
    );
    assert!(!dir.join("certs/bad.pem").exists());
}

/// Makes `ca.pem`/`ca-key.pem` with openssl: a P-256 self-signed CA with `extra` arguments.
fn openssl_ca(dir: &Dir, extra: &[&str]) {
    let mut args = vec!["-subj", "/CN=Old CA"];
    args.extend_from_slice(extra);
    dir.openssl_p256_self_signed_with("ca-key.pem", "ca.pem", &args);
}

const LEAF: &str = r#"let ca = load_ca("ca.pem", "ca-key.pem");
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "leaf" }, san: ["leaf.example.com"], profile: "server", OPTS });
write_cert("leaf.pem", r.cert);
"#;

fn leaf(opts: &str) -> String {
    LEAF.replace(", OPTS", opts)
}

/// A CA valid from `start` to `end` (openssl `ca -selfsign`, the only way to choose both dates).
fn openssl_ca_dated(dir: &Dir, start: &str, end: &str) {
    dir.create(
        "ca.cnf",
        "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\nnew_certs_dir = .\nserial = serial\n\
         default_md = sha256\npolicy = p\n[p]\ncommonName = supplied\n\
         [v3]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n",
    );
    dir.create("index.txt", "");
    dir.create("serial", "01\n");
    dir.openssl_p256_csr("ca-key.pem", "/CN=Dated CA", "ca.csr");
    dir.openssl(&[
        "ca",
        "-batch",
        "-selfsign",
        "-config",
        "ca.cnf",
        "-keyfile",
        "ca-key.pem",
        "-in",
        "ca.csr",
        "-out",
        "ca.pem",
        "-extensions",
        "v3",
        "-startdate",
        start,
        "-enddate",
        end,
        "-notext",
    ]);
}

#[test]
fn an_expired_or_not_yet_valid_ca_does_not_sign() {
    let dir = Dir::new();
    openssl_ca_dated(&dir, "20200101000000Z", "20210101000000Z");
    assert_eq!(
        refused(&dir, &leaf("")),
        "refusing to sign with the CA `CN = Dated CA`: expired at 2021-01-01T00:00:00Z"
    );
    let dir = Dir::new();
    openssl_ca_dated(&dir, "20900101000000Z", "20910101000000Z");
    assert_eq!(
        refused(&dir, &leaf("")),
        "refusing to sign with the CA `CN = Dated CA`: not valid before 2090-01-01T00:00:00Z"
    );
}

#[test]
fn a_ca_without_key_cert_sign_does_not_sign() {
    let dir = Dir::new();
    openssl_ca(
        &dir,
        &[
            "-days",
            "3650",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,digitalSignature",
        ],
    );
    assert_eq!(
        refused(&dir, &leaf("")),
        "refusing to sign with the CA `CN = Old CA`: its keyUsage lacks keyCertSign"
    );
}

#[test]
fn a_sha1_signed_ca_does_not_sign_unless_allowed() {
    let dir = Dir::new();
    openssl_ca(&dir, &["-days", "3650", "-sha1"]);
    assert_eq!(
        refused(&dir, &leaf("")),
        "refusing to sign with the CA `CN = Old CA`: it is signed with SHA-1 (pass `allow_sha1: true` to sign with it anyway)"
    );
    dir.run_script(&leaf(", allow_sha1: true"), &[]).success();
}

#[test]
fn a_pathlen_zero_ca_cannot_sign_a_ca() {
    let dir = Dir::new();
    let script = r#"let root = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Root", days: 3650, basic_constraints: "critical,CA:true,pathlen:0" });
let sub = root.sign(new_csr(gen_key("ecdsa:256"), #{ subject: "/CN=Sub" }), #{ profile: "ca", days: 365 });
write_cert("sub.pem", sub);
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign with the CA `CN = Root`: its pathlen:0 allows no CA below it, and the profile issues a CA"
    );
    let script = r#"let root = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Root", days: 3650, basic_constraints: "critical,CA:true,pathlen:1" });
let sub = root.sign(new_csr(gen_key("ecdsa:256"), #{ subject: "/CN=Sub" }), #{ profile: "ca", days: 365, basic_constraints: "critical,CA:true,pathlen:1" });
write_cert("sub.pem", sub);
"#;
    assert_eq!(
        refused(&dir, script),
        "refusing to sign with the CA `CN = Root`: its pathlen:1 allows at most pathlen:0 below it, the profile asks for pathlen:1"
    );
}

#[test]
fn a_leaf_that_would_outlive_its_ca_is_refused_or_clamped() {
    let dir = Dir::new();
    openssl_ca(&dir, &["-days", "30"]);
    let ca = Certificate::from_pem(dir.read("ca.pem").as_bytes()).unwrap();
    let err = refused(&dir, &leaf(""));
    assert!(
        err.starts_with("refusing to sign with the CA `CN = Old CA`: it expires at ")
            && err.ends_with("; sign for less time or pass `clamp_to_ca: true`"),
        "{err}"
    );
    let run = dir.run_script(&leaf(", clamp_to_ca: true"), &[]).success();
    let cert = Certificate::from_pem(dir.read("leaf.pem").as_bytes()).unwrap();
    assert_eq!(cert.not_after(), ca.not_after());
    let note = run.stderr();
    assert!(
        note.starts_with("note: notAfter clamped to the CA's, ") && note.lines().count() == 1,
        "{note}"
    );
    dir.openssl(&["verify", "-CAfile", "ca.pem", "leaf.pem"]);
}

#[test]
fn a_leaf_with_its_cas_own_lifetime_in_the_same_run_is_signed_as_the_seeds_sign_it() {
    let dir = Dir::new();
    let run = dir
        .run_script(
            r#"let ca = new_ca(gen_key("ecdsa:256"), #{ subject: "/CN=Run CA", days: 365 });
sleep(1.2);
let r = ca.issue(#{ key: "ecdsa:256", subject: #{ CN: "node" }, profile: "client", days: 365 });
write_cert("ca.pem", ca.cert);
write_cert("node.pem", r.cert);
"#,
            &[],
        )
        .success();
    assert_eq!(run.stderr(), "");
    let ca = Certificate::from_pem(dir.read("ca.pem").as_bytes()).unwrap();
    let node = Certificate::from_pem(dir.read("node.pem").as_bytes()).unwrap();
    assert!(
        node.not_after() > ca.not_after(),
        "no clamp: what the seeds make"
    );
    assert!(node.not_after() <= ca.not_after() + Duration::from_secs(5));
    assert!(node.not_before() <= SystemTime::now());
}
