//! Per-operation costs of the PKI core and of a whole procedure script.
//!
//!   cargo bench --bench core                 # everything, about 2-3 minutes on 2 cores
//!   cargo bench --bench core -- keygen/p384  # one group or benchmark (criterion filter)
//!
//! Slow operations (RSA key generation, the cockroach script) use flat sampling with 10
//! samples; the fast ones use criterion's defaults with shorter warm-up and measurement times.
//! Files written by the script benchmark go to `target/bench-out/` (never /tmp).
#![allow(missing_docs)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, SamplingMode, criterion_group, criterion_main};
use pkirun::pki::verify::{VerifyOptions, verify};
use pkirun::pki::{
    Ca, Csr, CsrParams, DistinguishedName, Key, KeySpec, Profile, PublicKey, San,
    SignatureAlgorithm,
};
use pkirun::script::{self, Options};
use pkirun::workspace::Workspace;

/// A CA of the given key type, made outside the timed code.
fn make_ca(spec: KeySpec) -> Ca {
    let key = Key::generate(spec).unwrap();
    let subject = DistinguishedName::parse("O=Cockroach, CN=Cockroach CA").unwrap();
    Ca::self_signed(key, &subject, &Profile::named("ca").unwrap()).unwrap()
}

fn node_sans() -> Vec<San> {
    ["localhost", "node.example.io", "IP:127.0.0.1"]
        .iter()
        .map(|s| San::parse(s).unwrap())
        .collect()
}

fn bench_keygen(c: &mut Criterion) {
    let mut g = c.benchmark_group("keygen");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    for (name, spec) in [("p256", KeySpec::P256), ("p384", KeySpec::P384)] {
        g.bench_function(name, |b| b.iter(|| Key::generate(black_box(spec)).unwrap()));
    }
    // RSA: a prime search, seconds for 4096 bits and a wide spread between keys.
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(6));
    g.bench_function("rsa2048", |b| {
        b.iter(|| Key::generate(black_box(KeySpec::Rsa(2048))).unwrap());
    });
    g.measurement_time(Duration::from_secs(25));
    g.bench_function("rsa4096", |b| {
        b.iter(|| Key::generate(black_box(KeySpec::Rsa(4096))).unwrap());
    });
    g.finish();
}

/// `issue_for`: sign one leaf certificate for an existing public key (no key generation).
fn bench_sign_leaf(c: &mut Criterion) {
    let mut g = c.benchmark_group("sign_leaf");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let profile = Profile::named("peer").unwrap();
    let subject = DistinguishedName::parse("O=Cockroach, CN=node").unwrap();
    let sans = node_sans();
    for (name, spec) in [
        ("rsa2048_ca", KeySpec::Rsa(2048)),
        ("p384_ca", KeySpec::P384),
    ] {
        let ca = make_ca(spec);
        let leaf = Key::generate(spec).unwrap();
        let spki = leaf.public_key_der().to_vec();
        g.bench_function(name, |b| {
            b.iter(|| {
                ca.issue_for(black_box(&spki), &subject, &sans, &profile)
                    .unwrap()
            });
        });
    }
    g.finish();
}

/// `pki::verify::verify`: one leaf against its CA (chain, signature, validity, host name).
fn bench_verify(c: &mut Criterion) {
    let mut g = c.benchmark_group("verify");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let profile = Profile::named("peer").unwrap();
    let subject = DistinguishedName::parse("O=Cockroach, CN=node").unwrap();
    let sans = node_sans();
    let opts = VerifyOptions {
        host: Some("node.example.io".into()),
        ..VerifyOptions::default()
    };
    for (name, spec) in [
        ("rsa2048_ca", KeySpec::Rsa(2048)),
        ("p384_ca", KeySpec::P384),
    ] {
        let ca = make_ca(spec);
        let leaf = Key::generate(spec).unwrap();
        let cert = ca
            .issue_for(leaf.public_key_der(), &subject, &sans, &profile)
            .unwrap()
            .cert;
        let trusted = [ca.cert().clone()];
        g.bench_function(name, |b| {
            b.iter(|| verify(black_box(&cert), &trusted, &[], &opts).unwrap());
        });
    }
    g.finish();
}

/// CSR round trip: `Csr::new` (leaf signs) → PEM → `Csr::from_pem` (verifies) → `ca.sign`.
fn bench_csr_roundtrip(c: &mut Criterion) {
    let mut g = c.benchmark_group("csr_roundtrip");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let mut profile = Profile::named("peer").unwrap();
    profile.copy_extensions = pkirun::pki::CopyExtensions::Copy;
    let params = CsrParams {
        subject: DistinguishedName::parse("O=Cockroach").unwrap(),
        sans: node_sans(),
        san_critical: Some(true),
        ..CsrParams::default()
    };
    for (name, spec) in [("rsa2048", KeySpec::Rsa(2048)), ("p384", KeySpec::P384)] {
        let ca = make_ca(spec);
        let leaf = Key::generate(spec).unwrap();
        g.bench_function(name, |b| {
            b.iter(|| {
                let pem = Csr::new(&leaf, &params).unwrap().pem();
                let csr = Csr::from_pem(black_box(pem.as_bytes())).unwrap();
                ca.sign(&csr, &profile).unwrap()
            });
        });
    }
    g.finish();
}

/// The signature primitives under the operations above: what a signature and a verification
/// cost, and what RSA blinding adds (`sign_with_rng`, which `Key::sign` uses, blinds the base,
/// the exponent and the CRT moduli; `sign` relies on crypto-bigint's constant-time arithmetic
/// alone).
fn bench_primitives(c: &mut Criterion) {
    use sha2::{Digest, Sha256};
    let mut g = c.benchmark_group("primitive");
    g.warm_up_time(Duration::from_secs(1));
    g.measurement_time(Duration::from_secs(3));
    let msg = vec![0x5a_u8; 600]; // about a TBSCertificate
    for (name, spec, alg) in [
        ("p256", KeySpec::P256, SignatureAlgorithm::EcdsaSha256),
        ("p384", KeySpec::P384, SignatureAlgorithm::EcdsaSha384),
        ("rsa2048", KeySpec::Rsa(2048), SignatureAlgorithm::RsaSha256),
    ] {
        let key = Key::generate(spec).unwrap();
        let public = PublicKey::from_spki_der(key.public_key_der()).unwrap();
        let sig = key.sign(&msg).unwrap();
        g.bench_function(format!("{name}_sign"), |b| {
            b.iter(|| key.sign(black_box(&msg)).unwrap())
        });
        g.bench_function(format!("{name}_verify"), |b| {
            b.iter(|| assert!(public.verify(alg, black_box(&msg), &sig)))
        });
    }
    let mut rng = getrandom::rand_core::UnwrapErr(getrandom::SysRng);
    let rsa_key = rsa::PrivateKey::new(&mut rng, 2048).unwrap();
    let digest = Sha256::digest(&msg);
    g.bench_function("rsa2048_sign_unblinded", |b| {
        b.iter(|| {
            rsa_key
                .sign(rsa::Pkcs1v15Sign::new::<Sha256>(), black_box(&digest))
                .unwrap()
        })
    });
    g.finish();
}

/// A fresh, empty directory under target/bench-out for each script run.
fn fresh_dir(base: &Path, n: usize) -> PathBuf {
    let dir = base.join(format!("cockroach-{n}"));
    if dir.exists() {
        // Keys are 0400, but removal needs only the directory's write permission.
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The whole scripts/cockroach.rhai (4 RSA-2048 keys, a CA, 3 signatures, 9 files) in process:
/// read, build the engine, compile, run. `print` output is discarded, as on a quiet terminal.
fn bench_cockroach(c: &mut Criterion) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let script_path = root.join("scripts/cockroach.rhai");
    let base = root.join("target/bench-out");
    std::fs::create_dir_all(&base).unwrap();
    let opts = Options {
        quiet: true,
        ..Options::default()
    };
    let counter = AtomicUsize::new(0);
    let mut g = c.benchmark_group("script");
    g.sampling_mode(SamplingMode::Flat);
    g.sample_size(10);
    g.warm_up_time(Duration::from_millis(500));
    g.measurement_time(Duration::from_secs(15));
    g.bench_function("cockroach.rhai", |b| {
        b.iter_batched(
            || fresh_dir(&base, counter.fetch_add(1, Ordering::Relaxed) % 4),
            |dir| {
                let source = std::fs::read_to_string(&script_path).unwrap();
                let ws = Workspace::new(&dir).unwrap();
                let mut engine = script::engine(ws, &opts, script_path.parent());
                engine.on_print(|_| {});
                script::run_source(&engine, "scripts/cockroach.rhai", &source).unwrap();
                dir
            },
            criterion::BatchSize::PerIteration,
        );
    });
    g.finish();
    for n in 0..4 {
        let _ = std::fs::remove_dir_all(base.join(format!("cockroach-{n}")));
    }
}

criterion_group!(
    benches,
    bench_keygen,
    bench_sign_leaf,
    bench_verify,
    bench_csr_roundtrip,
    bench_primitives,
    bench_cockroach
);
criterion_main!(benches);
