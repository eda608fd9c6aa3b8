#!/usr/bin/env bash
# The test command: installs the programs the tests check pkirun's output with (openssl, cfssl,
# etcd, easyrsa) when they are missing, then runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v cfssl >/dev/null 2>&1 || missing+=(golang-cfssl)          # cfssl + cfssljson
command -v etcd >/dev/null 2>&1 || missing+=(etcd-server etcd-client)  # etcd + etcdctl
[ -x /usr/share/easy-rsa/easyrsa ] || missing+=(easy-rsa)          # the real easyrsa 3
command -v nginx >/dev/null 2>&1 || missing+=(nginx)                 # serves pkirun's chains
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v keytool >/dev/null 2>&1 || missing+=(default-jdk-headless)  # reads pkirun's .p12
# Python's `cryptography` (its own, recent OpenSSL) judges CRLs and PKCS#12 files a second time.
if ! python3 -c 'import cryptography' >/dev/null 2>&1; then
  python3 -m pip install -q cryptography >/dev/null 2>&1 || missing+=(python3-cryptography)
fi
if [ ${#missing[@]} -gt 0 ]; then
  echo "tests/run.sh: installing ${missing[*]}" >&2
  if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
  # Debian starts the nginx service on install; the tests run their own on 127.0.0.1.
  if [[ " ${missing[*]} " == *" nginx "* ]]; then $sudo service nginx stop >/dev/null 2>&1 || true; fi
fi

# The release profile: the README's first command (`cargo run --release`) has already built every
# dependency in it, so a newcomer's first test run compiles only pkirun and the test-only crates
# instead of the whole dependency tree a second time.
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --release --no-fail-fast "$@"
  cargo test --release --doc
else
  cargo test --release --no-fail-fast "$@"
fi
