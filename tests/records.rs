//! Every certificate a CA signs is recorded in its database when it is written (issue 14.2):
//! `ca.use_database(dir)` once, then write_cert / write_pair / write_certs and both batch kinds
//! record in DIR/index.txt (with DIR/serial, as openssl ca keeps it); `openssl ca -gencrl` on
//! that database lists what pkirun revoked.

use std::collections::BTreeSet;

use crate::util::Dir;

/// `openssl ca` configuration for the database in `root/`.
const ROOT_CNF: &str = "\
[ ca ]
default_ca = CA_default
[ CA_default ]
dir = root
database = $dir/index.txt
new_certs_dir = $dir
certificate = $dir/ca.crt
private_key = $dir/ca.key
serial = $dir/serial
crlnumber = $dir/crlnumber
default_md = sha256
default_crl_days = 7
";

/// A P-384 root in root/ca.crt + root/ca.key, its database in root/.
const ROOT: &str = r#"
mkdir("root"); mkdir("issued");
let key = gen_key("ecdsa:384");
let ca = if exists("root/ca.crt") { load_ca("root/ca.crt", "root/ca.key") } else {
    let ca = new_ca(key, #{ subject: ["CN=Records Root"], days: 3650 });
    write_pair("root/ca.key", key, "root/ca.crt", ca.cert);
    ca
};
ca.use_database("root");
"#;

/// The serials of `index.txt` lines with status `status`.
fn serials(dir: &Dir, status: char) -> BTreeSet<String> {
    dir.read("root/index.txt")
        .lines()
        .filter(|l| l.starts_with(status))
        .map(|l| l.split('\t').nth(3).unwrap().to_string())
        .collect()
}

/// The serial of a certificate file as openssl prints it (upper-case hex).
#[test]
fn written_certificates_are_recorded_once_with_their_files_and_openssl_ca_reads_the_database() {
    let dir = Dir::new();
    dir.create("root.cnf", ROOT_CNF);
    let script = format!(
        r#"{ROOT}
let k = gen_key("ecdsa:256");
let www = ca.sign(new_csr(k, #{{ subject: ["CN=www"], san: ["www.example.test"] }}), #{{ days: 30, profile: "server" }});
write_pair("issued/www.key", k, "issued/www.crt", www);
// The full chain names the leaf again and the root: neither is recorded a second time.
write_certs("issued/www.fullchain.pem", [www, ca.cert], #{{}});
let alice = ca.issue(#{{ key: "ecdsa:256", subject: #{{ CN: "alice" }}, san: ["alice@example.test"], profile: "client" }});
write_cert("issued/alice.crt", alice.cert);
// A certificate signed but never written (a re-run's candidate) is not recorded.
let unused = ca.issue(#{{ key: "ecdsa:256", subject: #{{ CN: "unused" }}, san: ["unused.example.test"], profile: "server" }});
"#
    );
    dir.run_script(&script, &[]).success();
    let valid = serials(&dir, 'V');
    let expected: BTreeSet<String> = ["issued/www.crt", "issued/alice.crt"]
        .iter()
        .map(|c| dir.serial_of(c))
        .collect();
    assert_eq!(valid, expected, "{}", dir.read("root/index.txt"));
    assert_eq!(dir.read("root/index.txt.attr"), "unique_subject = no\n");
    // serial: past every serial recorded (openssl ca leaves the one after its last; with
    // random serials the file never moves back to a number below one already used).
    let last = ["issued/www.crt", "issued/alice.crt"]
        .iter()
        .map(|c| u128::from_str_radix(&dir.serial_of(c), 16).unwrap())
        .max()
        .unwrap();
    let next = format!("{:X}", last + 1);
    let even = if next.len() % 2 == 1 {
        format!("0{next}")
    } else {
        next
    };
    assert_eq!(dir.read("root/serial"), format!("{even}\n"));

    // pkirun revokes alice; openssl ca -gencrl on the same database lists her serial.
    dir.run_script(
        &format!(
            r#"{ROOT}
ca.revoke("root", load_cert("issued/alice.crt"), "keyCompromise");
write_crl("root/crl.pem", ca.crl("root", #{{ days: 7 }}));"#
        ),
        &[],
    )
    .success();
    dir.openssl(&[
        "ca",
        "-config",
        "root.cnf",
        "-gencrl",
        "-out",
        "openssl.crl",
    ]);
    let listed = |crl: &str| -> BTreeSet<String> {
        dir.openssl(&["crl", "-in", crl, "-noout", "-text"])
            .lines()
            .filter_map(|l| l.trim().strip_prefix("Serial Number: "))
            .map(str::to_string)
            .collect()
    };
    let alice = dir.serial_of("issued/alice.crt");
    assert_eq!(listed("openssl.crl"), BTreeSet::from([alice.clone()]));
    assert_eq!(listed("root/crl.pem"), BTreeSet::from([alice]));
}

#[test]
fn a_refused_write_records_nothing_and_a_damaged_database_is_refused_before_signing() {
    let dir = Dir::new();
    dir.run_script(ROOT, &[]).success();
    dir.create("issued/www.crt", "taken\n");
    let before = dir.snapshot();
    let err = dir
        .run_script(
            &format!(
                r#"{ROOT}
let p = ca.issue(#{{ key: "ecdsa:256", subject: #{{ CN: "www" }}, san: ["www.example.test"], profile: "server" }});
write_cert("issued/www.crt", p.cert);"#
            ),
            &[],
        )
        .failure();
    assert!(err.contains("issued/www.crt"), "{err}");
    assert_eq!(dir.snapshot(), before, "neither the file nor a record");

    dir.create("root/index.txt", "V\t300101000000Z\n");
    let before = dir.snapshot();
    let err = dir.run_script(ROOT, &[]).failure();
    assert!(
        err.contains("`root/index.txt` line 1") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(dir.snapshot(), before);
}

/// Batches append a line per certificate once its files are durable. A line lost (a crash
/// between the files and the record) comes back when a re-run keeps the certificate; a re-run
/// adds no line twice.
#[test]
fn batches_record_every_certificate_and_a_rerun_mends_a_lost_line() {
    let dir = Dir::new();
    let batch = format!(
        r#"{ROOT}
let specs = [];
for i in 0..150 {{ specs.push(#{{ name: "n" + i, subject: ["CN=n" + i], san: ["n" + i + ".example.test"] }}); }}
ca.issue_batch(specs, #{{ cert: "issued/{{name}}.crt", key_out: "issued/{{name}}.key", days: 30, key: "ecdsa:256" }});
mkdir("csrs");
for i in 0..20 {{
    let path = "csrs/s" + i + ".csr";
    if !exists(path) {{ write_csr(path, new_csr(gen_key("ecdsa:256"), #{{ subject: ["CN=s" + i] }})); }}
}}
ca.sign_batch(list("csrs"), #{{ out: "signed/{{name}}.pem", days: 30 }});
"#
    );
    dir.run_script(&batch, &["-q"]).success();
    let recorded = serials(&dir, 'V');
    assert_eq!(recorded.len(), 170);
    assert!(recorded.contains(&dir.serial_of("issued/n42.crt")));
    assert!(recorded.contains(&dir.serial_of("signed/s7.pem")));

    // Lose the last 10 lines, as a crash after the certificates but before their record would.
    let index = dir.read("root/index.txt");
    let kept: Vec<&str> = index.lines().take(160).collect();
    dir.create("root/index.txt", format!("{}\n", kept.join("\n")));
    dir.run_script(&batch, &["-q"]).success();
    assert_eq!(serials(&dir, 'V'), recorded, "mended, nothing twice");
    assert_eq!(dir.read("root/index.txt").lines().count(), 170);
    dir.create("root.cnf", ROOT_CNF);
    dir.create("root/crlnumber", "01\n");
    dir.openssl(&["ca", "-config", "root.cnf", "-gencrl", "-out", "x.crl"]);
}
