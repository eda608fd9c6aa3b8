//! openssl configuration files read as OpenSSL 3 reads them (issue 11.1): the same file given
//! to `openssl req -x509` and to `openssl_cnf` must say the same subject and extensions, and
//! what openssl refuses pkirun refuses with the file and line.

use crate::util::{Dir, seed_block};

/// A configuration using every rule: default section, variables of four spellings, another
/// section's variable, the environment, quotes, escapes, a continued line, an escaped `#`, a
/// comment, `.include` of a file and of a directory, a `section::name` setting, and a
/// repeated name.
const CNF: &str = r#"# a comment
base = example.test
org = Acme
.include extra.cnf
.include conf.d

[ req ]
prompt = no
distinguished_name = dn
x509_extensions = ext
default_md = sha256

[ dn ]
O = "$org \"Q\" Ltd"   # quoted, with escaped quotes
OU = a\#b
OU = Ops                 # repeated: the last one wins
CN = www.${base}

[ ext ]
subjectAltName = DNS:$base, DNS:api.$(base), \
    DNS:$names::third.${base}, email:$ENV::PKIRUN_CNF_MAIL
basicConstraints = critical,CA:false
keyUsage = $usage
"#;

const EXTRA: &str = "[ names ]\nthird = three\n[ ext ]\n";
const DROP_IN: &str = "default::usage = digitalSignature\n";

/// `openssl req -x509 -config CONFIG` with a new P-256 key (k.pem, c.pem), in `dir`.
fn openssl_req_x509(
    dir: &Dir,
    config: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut args = vec![
        "req",
        "-x509",
        "-config",
        config,
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-keyout",
        "k.pem",
        "-out",
        "c.pem",
    ];
    args.extend_from_slice(extra);
    std::process::Command::new("openssl")
        .args(&args)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .unwrap()
}

fn write(dir: &Dir) {
    dir.create("site.cnf", CNF);
    dir.create("extra.cnf", EXTRA);
    dir.create("conf.d/10-usage.cnf", DROP_IN);
    dir.create("conf.d/README", "not read: neither .cnf nor .conf\n");
}

#[test]
fn openssl_cnf_reads_what_openssl_req_reads() {
    let dir = Dir::new();
    write(&dir);
    // openssl resolves relative includes against its working directory, as pkirun does
    // against -C.
    let out = openssl_req_x509(
        &dir,
        "site.cnf",
        &[],
        &[("PKIRUN_CNF_MAIL", "ops@example.test")],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let subject = dir
        .openssl(&[
            "x509", "-in", "c.pem", "-noout", "-subject", "-nameopt", "RFC2253",
        ])
        .trim()
        .trim_start_matches("subject=")
        .to_string();
    let text = dir.x509_text("c.pem");
    let san = crate::util::ext_value(&text, "X509v3 Subject Alternative Name:");
    let usage = crate::util::ext_value(&text, "X509v3 Key Usage:");

    let script = r#"
let c = openssl_cnf("site.cnf");
let dn = c.section("dn");
print(`CN=${c.get("dn", "CN")},OU=${c.get("dn", "OU")},O=${c.get("dn", "O")}`);
print(c.get("ext", "subjectAltName"));
print(c.get("ext", "keyUsage"));
print(dn.len());
print(c.section("ext")[0].line);
"#;
    let run = dir
        .run_script_env(script, &[], &[("PKIRUN_CNF_MAIL", "ops@example.test")])
        .success();
    let ours = run.stdout();
    let lines: Vec<&str> = ours.lines().collect();
    // RFC 2253 escapes the quotes openssl put in the value.
    assert_eq!(lines[0].replace('"', "\\\""), subject, "{ours}");
    // A continued line keeps the next line's leading spaces, in openssl as here; the SAN
    // parser drops them after each comma.
    let spaced = lines[1]
        .split(',')
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(", ");
    assert_eq!(spaced, san, "{ours}\n{text}");
    assert_eq!(lines[2], "digitalSignature");
    assert!(usage.contains("Digital Signature"), "{usage}");
    assert_eq!(lines[3], "3", "O, OU (once), CN");
    assert_eq!(
        lines[4], "20",
        "the continued line keeps its first line number"
    );
}

/// Lines OpenSSL refuses are refused with the file and line, as openssl names them.
#[test]
fn what_openssl_refuses_is_refused_with_its_file_and_line() {
    // OpenSSL 3.0 passes over an include that does not exist and one that includes itself;
    // pkirun refuses both (a setting silently missing is what the reader exists to prevent).
    let cases = [
        (
            "[ req\nprompt = no\n",
            "`bad.cnf` line 1: missing close square bracket",
            true,
        ),
        (
            "[ req ]\nprompt no\n",
            "`bad.cnf` line 2: missing equal sign",
            true,
        ),
        (
            "[ dn ]\nx:OU = Two\n",
            "`bad.cnf` line 2: `x:OU`: not a name",
            true,
        ),
        (
            "[ req ]\nx = $nothing\n",
            "`bad.cnf` line 2: variable `nothing` has no value",
            true,
        ),
        (
            "[ req ]\nx = ${base\n",
            "`bad.cnf` line 2: no close brace after `${base`",
            true,
        ),
        (
            ".include bad.cnf\n",
            ".include nested more than 16 deep",
            false,
        ),
        (".include missing.cnf\n", "`bad.cnf` line 1: ", false),
    ];
    for (text, ours, openssl_refuses) in cases {
        let dir = Dir::new();
        dir.create("bad.cnf", text);
        let openssl = openssl_req_x509(&dir, "bad.cnf", &["-subj", "/CN=x"], &[]);
        assert_eq!(
            !openssl.status.success(),
            openssl_refuses,
            "openssl on {text:?}"
        );
        let err = dir.run_script(r#"openssl_cnf("bad.cnf");"#, &[]).failure();
        assert!(err.contains(ours), "{text:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
    }
}

/// Quotes, escapes, comments and variables in a value, each read by openssl into a request's
/// CN and by `openssl_cnf` into a request pkirun makes: openssl prints the same subject for both.
#[test]
fn quotes_escapes_comments_and_variables_read_as_openssl_reads_them() {
    let dir = Dir::new();
    dir.openssl_ec_key("prime256v1", "k.pem");
    let values = [
        r#""a b""#,
        "'a b'",
        r#""a\"b""#,
        r#"a\"b"#,
        r#""a""b""#,
        r#""$base""#,
        "'$base'",
        r"'a\'b'",
        "a#b",
        r#""a#b""#,
        r"a\#b",
        r#"a"b c"d"#,
        "$base$base",
        "${base}x",
        "$(base)-$default::base",
        r"\$base",
        r#""x\tb""#,
    ];
    for (i, value) in values.iter().enumerate() {
        let cnf = format!(
            "base = B\n[ req ]\nprompt = no\ndistinguished_name = dn\n[ dn ]\nCN = {value}\n"
        );
        dir.create(&format!("p{i}.cnf"), &cnf);
        let theirs = dir.openssl(&[
            "req",
            "-new",
            "-config",
            &format!("p{i}.cnf"),
            "-key",
            "k.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
        ]);
        dir.run_script(
            &format!(
                r#"let cn = openssl_cnf("p{i}.cnf").get("dn", "CN");
write_csr("ours{i}.csr", new_csr(load_key("k.pem"), #{{ subject: #{{ CN: cn }} }}));"#
            ),
            &[],
        )
        .success();
        let ours = dir.openssl(&[
            "req",
            "-in",
            &format!("ours{i}.csr"),
            "-noout",
            "-subject",
            "-nameopt",
            "RFC2253",
        ]);
        assert_eq!(ours, theirs, "CN = {value}");
    }
}

/// The CockroachDB seed's `ca.cnf`, as the seed prints it: `openssl req -new -x509 -config
/// ca.cnf` and `new_ca` with `cnf.subject` + `cnf.extensions` make the same CA, field by field
/// (serial and dates aside): with the section silent on it, neither writes an
/// authorityKeyIdentifier on the self-signed certificate (OpenSSL 3.0's `keyid` default).
#[test]
fn the_cockroach_seed_ca_cnf_makes_the_ca_openssl_makes() {
    let dir = Dir::new();
    let block = seed_block("001_38ec4f3ee7113a6b.txt", "Create the `ca.cnf` file");
    assert!(block.contains("[ signing_node_req ]"), "{block}");
    dir.create("ca.cnf", &block);
    dir.openssl(&["genrsa", "-out", "ca.key", "2048"]);
    dir.openssl(&[
        "req", "-new", "-x509", "-config", "ca.cnf", "-key", "ca.key", "-out", "ca.crt", "-days",
        "365", "-batch",
    ]);
    dir.run_script(
        r#"let c = openssl_cnf("ca.cnf");
let ca = new_ca(load_key("ca.key"), #{ subject: c.subject("distinguished_name"), days: 365 } + c.extensions("extensions"));
write_cert("ours.crt", ca.cert);
let node = c.extensions("signing_node_req");
if node.key_usage != ["critical", "digitalSignature", "keyEncipherment"] || node.ext_key_usage != ["serverAuth", "clientAuth"] { throw `${node}`; }"#,
        &[],
    )
    .success();
    dir.pkirun(&["diff", "ca.crt", "ours.crt", "--ignore", "serial,dates"])
        .success();
}

/// An extension pkirun does not write is an error naming the file, line and name, never
/// dropped; so is a SAN type it does not know.
#[test]
fn an_extension_pkirun_does_not_write_is_named_with_its_line() {
    let dir = Dir::new();
    dir.create(
        "x.cnf",
        "[ ext ]\nkeyUsage = digitalSignature\ncertificatePolicies = 2.23.140.1.2.1\n\
         [ san ]\nsubjectAltName = DNS:a.example.test, otherName:1.2.3;UTF8:x\n",
    );
    for (section, want) in [
        (
            "ext",
            "`x.cnf` line 3: `certificatePolicies`: pkirun does not write `certificatePolicies`",
        ),
        (
            "san",
            "`x.cnf` line 5: `subjectAltName`: `otherName`: pkirun writes DNS, IP, email and URI names",
        ),
    ] {
        let err = dir
            .run_script(
                &format!(r#"openssl_cnf("x.cnf").extensions("{section}");"#),
                &[],
            )
            .failure();
        assert!(err.contains(want), "{err}");
    }
}

/// `default_md` is a request, not a hint: a CA whose key pkirun signs with another digest
/// refuses to sign (openssl would sign with sha512), and `default` or the key's own digest signs.
#[test]
fn a_default_md_pkirun_cannot_sign_with_is_refused_not_replaced() {
    let dir = Dir::new();
    let cnf = "[ ca ]\ndefault_ca = d\n[ d ]\ndefault_days = 30\ndefault_md = sha512\n\
               policy = p\nx509_extensions = e\n[ p ]\ncommonName = supplied\n\
               [ e ]\nbasicConstraints = CA:FALSE\n";
    dir.create("ca.cnf", cnf);
    let script = r#"let ca = new_ca(gen_key("ecdsa", 384), #{ subject: "/CN=CA" });
let csr = new_csr(gen_key("ecdsa", 256), #{ subject: "/CN=leaf" });
let signed = ca.sign(csr, openssl_cnf("ca.cnf").signing(#{}));
write_cert("leaf.crt", signed);"#;
    let err = dir.run_script(script, &[]).failure();
    assert!(
        err.contains("`digest`: sha512 was asked (default_md), but pkirun signs with this key using sha384 only"),
        "{err}"
    );
    assert!(!dir.join("leaf.crt").exists());
    dir.create("ca.cnf", cnf.replace("sha512", "sha384"));
    dir.run_script(script, &[]).success();
    let text = dir.x509_text("leaf.crt");
    assert!(text.contains("ecdsa-with-SHA384"), "{text}");
}

/// crlDistributionPoints and authorityInfoAccess from an extension section: `openssl x509 -req
/// -extfile` and `ca.sign` with `cnf.extensions` write the same extensions (compared field by
/// field), which openssl and Python's cryptography read back as the URIs given; a form pkirun
/// does not write (a distribution point section) is named with its line.
#[test]
fn crl_distribution_points_and_authority_info_access_are_written_as_openssl_writes_them() {
    let dir = Dir::new();
    dir.create(
        "ext.cnf",
        "[ leaf ]\nbasicConstraints = CA:FALSE\nkeyUsage = critical,digitalSignature\n\
         crlDistributionPoints = URI:http://crl.example.test/ca.crl, URI:ldap://ldap.example.test/cn=CA\n\
         authorityInfoAccess = OCSP;URI:http://ocsp.example.test, caIssuers;URI:http://example.test/ca.crt\n\
         [ bad ]\ncrlDistributionPoints = @dp\n[ dp ]\nfullname = URI:http://x.test/ca.crl\n",
    );
    dir.openssl_p256_self_signed("ca.key", "ca.crt", "/CN=Test CA");
    dir.openssl_p256_csr("leaf.key", "/CN=leaf.example.test", "leaf.csr");
    dir.openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "5",
        "-extfile",
        "ext.cnf",
        "-extensions",
        "leaf",
        "-out",
        "openssl.crt",
    ]);
    dir.run_script(
        r#"import "openssl" as o;
let ca = load_ca("ca.crt", "ca.key");
let crt = ca.sign(load_csr("leaf.csr"), o::x509_req(5, openssl_cnf("ext.cnf").extensions("leaf")));
write_cert("pkirun.crt", crt);"#,
        &[],
    )
    .success();
    let out = dir
        .pkirun(&[
            "diff",
            "openssl.crt",
            "pkirun.crt",
            "--ignore",
            "serial,dates",
        ])
        .success()
        .stdout();
    assert!(out.contains("are the same"), "{out}");
    let text = dir.x509_text("pkirun.crt");
    for want in [
        "URI:http://crl.example.test/ca.crl",
        "URI:ldap://ldap.example.test/cn=CA",
        "OCSP - URI:http://ocsp.example.test",
        "CA Issuers - URI:http://example.test/ca.crt",
    ] {
        assert!(text.contains(want), "{want}: {text}");
    }
    let python = dir.python(
        "from cryptography import x509\n\
         c = x509.load_pem_x509_certificate(open('pkirun.crt','rb').read())\n\
         dp = c.extensions.get_extension_for_class(x509.CRLDistributionPoints).value\n\
         aia = c.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value\n\
         print([n.value for p in dp for n in p.full_name])\n\
         print([(d.access_method._name, d.access_location.value) for d in aia])\n",
    );
    assert!(
        python.contains("['http://crl.example.test/ca.crl', 'ldap://ldap.example.test/cn=CA']"),
        "{python}"
    );
    assert!(
        python.contains(
            "('OCSP', 'http://ocsp.example.test'), ('caIssuers', 'http://example.test/ca.crt')"
        ),
        "{python}"
    );
    let err = dir
        .run_script(r#"openssl_cnf("ext.cnf").extensions("bad");"#, &[])
        .failure();
    assert!(
        err.contains("`ext.cnf` line 7: `crlDistributionPoints`: `@dp`: pkirun writes distribution points as URI:..."),
        "{err}"
    );
}

/// A multi-valued RDN (`+serialNumber` after `CN`) and openssl's prefix rule (`ab.OU`, `1.OU`):
/// the subject `openssl req -x509` makes from the section is the subject pkirun makes, RDN for
/// RDN.
#[test]
fn multi_valued_rdns_and_prefixed_fields_make_openssls_subject() {
    let dir = Dir::new();
    dir.create(
        "mv.cnf",
        "[ req ]\nprompt = no\ndistinguished_name = dn\nx509_extensions = ext\n\
         [ dn ]\nO = Acme\n1.OU = One\nab.OU = Two\nCN = host.example.test\n+serialNumber = 42\n\
         [ ext ]\nbasicConstraints = critical,CA:true\n",
    );
    let out = openssl_req_x509(&dir, "mv.cnf", &[], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    dir.run_script(
        r#"let made = openssl_cnf("mv.cnf").self_signed();
let ca = new_ca(load_key("k.pem"), made + #{ days: 30 });
write_cert("ours.pem", ca.cert);"#,
        &[],
    )
    .success();
    let subject = |f: &str| {
        dir.openssl(&[
            "x509", "-in", f, "-noout", "-subject", "-nameopt", "RFC2253",
        ])
    };
    assert_eq!(subject("ours.pem"), subject("c.pem"));
    assert!(
        subject("ours.pem").contains("CN=host.example.test+serialNumber=42"),
        "{}",
        subject("ours.pem")
    );
    let der = |f: &str| {
        dir.openssl(&[
            "x509",
            "-in",
            f,
            "-noout",
            "-subject",
            "-nameopt",
            "multiline",
        ])
    };
    assert_eq!(der("ours.pem"), der("c.pem"));
}
