#!/usr/bin/env bash
# The openssl CLI doing what benches/core.rs measures in pkirun, on this machine, in ms per
# operation (process start included: that is what an operator's procedure pays).
#
#   bash benches/openssl.sh [OUTDIR]      # default: target/bench-out/openssl (never /tmp)
#
# Uses hyperfine when installed (apt-get install hyperfine), else a bash loop timed with
# `date +%s%N`. Run counts: RUNS (default 20) for fast operations, SLOW_RUNS (5) for
# genrsa 4096 and the cockroach procedure. If target/release/pkirun exists, the same
# procedure run by the pkirun CLI (scripts/cockroach.rhai, one process) is timed as well.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${1:-$REPO/target/bench-out/openssl}
RUNS=${RUNS:-20}
SLOW_RUNS=${SLOW_RUNS:-5}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
RESULTS="$OUT/results.tsv"
: >"$RESULTS"
: >"$OUT/hyperfine.log"

command -v openssl >/dev/null || { echo "openssl not found (apt-get install openssl)" >&2; exit 1; }
HAVE_HYPERFINE=0
command -v hyperfine >/dev/null && HAVE_HYPERFINE=1

# time_op LABEL RUNS PREPARE COMMAND: mean and standard deviation in ms, appended to RESULTS.
# PREPARE (may be empty) runs before each timed run, untimed.
time_op() {
    local label=$1 runs=$2 prepare=$3 cmd=$4
    if [[ $HAVE_HYPERFINE == 1 ]]; then
        local csv="$OUT/hf.csv" args=(-N --runs "$runs" --warmup 1 --style none --export-csv "$OUT/hf.csv")
        # -N: no shell around the command (a few ms of noise less); PREPARE gets its own.
        [[ -n $prepare ]] && args+=(--prepare "bash -c '$prepare'")
        hyperfine "${args[@]}" "$cmd" >/dev/null 2>>"$OUT/hyperfine.log"
        awk -F, -v l="$label" -v n="$runs" 'NR == 2 { printf "%s\t%.1f\t%.1f\t%d\n", l, $2 * 1000, $3 * 1000, n }' \
            "$csv" >>"$RESULTS"
    else
        local i t0 t1 times=()
        for ((i = 0; i < runs; i++)); do
            [[ -n $prepare ]] && bash -c "$prepare"
            t0=$(date +%s%N)
            $cmd >/dev/null 2>&1
            t1=$(date +%s%N)
            times+=($(((t1 - t0) / 1000)))
        done
        printf '%s\n' "${times[@]}" | awk -v l="$label" -v n="$runs" \
            '{ s += $1; q += $1 * $1 } END { m = s / NR; v = q / NR - m * m; if (v < 0) v = 0;
               printf "%s\t%.1f\t%.1f\t%d\n", l, m / 1000, sqrt(v) / 1000, n }' >>"$RESULTS"
    fi
    tail -n 1 "$RESULTS" | awk -F'\t' '{ printf "  %-44s %9.1f ms ± %.1f  (%d runs)\n", $1, $2, $3, $4 }'
}

# The CockroachDB procedure of "Create Security Certificates using Openssl", verbatim: ca.cnf,
# genrsa + chmod, req -x509, index.txt/serial.txt, node.cnf, genrsa, req -new, openssl ca with
# the signing policy, then two clients (root, roach) the same way.
cat >"$OUT/cockroach-openssl.sh" <<'SCRIPT'
set -euo pipefail
cd "$1"
mkdir node-certs client-certs my-safe-directory
cat >ca.cnf <<'EOF'
[ ca ]
default_ca = CA_default
[ CA_default ]
default_days = 365
database = index.txt
serial = serial.txt
default_md = sha256
copy_extensions = copy
unique_subject = no
[ req ]
prompt=no
distinguished_name = distinguished_name
x509_extensions = extensions
[ distinguished_name ]
organizationName = Cockroach
commonName = Cockroach CA
[ extensions ]
keyUsage = critical,digitalSignature,nonRepudiation,keyEncipherment,keyCertSign
basicConstraints = critical,CA:true,pathlen:1
[ signing_policy ]
organizationName = supplied
commonName = optional
[ signing_node_req ]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = serverAuth,clientAuth
[ signing_client_req ]
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = clientAuth
EOF
openssl genrsa -out my-safe-directory/ca.key 2048 2>/dev/null
chmod 400 my-safe-directory/ca.key
openssl req -new -x509 -config ca.cnf -key my-safe-directory/ca.key -out node-certs/ca.crt -days 365 -batch
rm -f index.txt serial.txt
touch index.txt
echo '01' >serial.txt
cat >node.cnf <<'EOF'
[ req ]
prompt=no
distinguished_name = distinguished_name
req_extensions = extensions
[ distinguished_name ]
organizationName = Cockroach
[ extensions ]
subjectAltName = critical,DNS:localhost,DNS:node.example.io,IP:127.0.0.1
EOF
openssl genrsa -out node-certs/node.key 2048 2>/dev/null
chmod 400 node-certs/node.key
openssl req -new -config node.cnf -key node-certs/node.key -out node.csr -batch
openssl ca -config ca.cnf -keyfile my-safe-directory/ca.key -cert node-certs/ca.crt \
    -policy signing_policy -extensions signing_node_req -out node-certs/node.crt \
    -outdir node-certs/ -in node.csr -batch 2>/dev/null
cp node-certs/ca.crt client-certs
for user in root roach; do
    printf '[ req ]\nprompt=no\ndistinguished_name = distinguished_name\n[ distinguished_name ]\norganizationName = Cockroach\ncommonName = %s\n' \
        "$user" >client.cnf
    openssl genrsa -out "client-certs/client.$user.key" 2048 2>/dev/null
    chmod 400 "client-certs/client.$user.key"
    openssl req -new -config client.cnf -key "client-certs/client.$user.key" -out "client.$user.csr" -batch
    openssl ca -config ca.cnf -keyfile my-safe-directory/ca.key -cert client-certs/ca.crt \
        -policy signing_policy -extensions signing_client_req -out "client-certs/client.$user.crt" \
        -outdir client-certs/ -in "client.$user.csr" -batch 2>/dev/null
done
rm -f node-certs/*.pem client-certs/*.pem
SCRIPT

# Signing inputs: an RSA-2048 and a P-384 CA, and a CSR of each key type (made once, untimed).
S="$OUT/sign"
mkdir -p "$S"
cp "$REPO/benches/peer.cnf" "$S/peer.cnf"
for t in rsa2048 p384; do
    case $t in
        rsa2048) newkey=(-newkey rsa:2048) ;;
        p384) newkey=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
    esac
    openssl req -new -x509 "${newkey[@]}" -nodes -keyout "$S/ca-$t.key" -out "$S/ca-$t.pem" \
        -subj "/O=Cockroach/CN=Cockroach CA" -days 365 \
        -addext basicConstraints=critical,CA:true,pathlen:1 \
        -addext keyUsage=critical,digitalSignature,keyCertSign 2>/dev/null
    openssl req -new "${newkey[@]}" -nodes -keyout "$S/leaf-$t.key" -out "$S/leaf-$t.csr" \
        -subj "/O=Cockroach/CN=node" \
        -addext "subjectAltName=critical,DNS:localhost,DNS:node.example.io,IP:127.0.0.1" 2>/dev/null
done

echo "openssl $(openssl version | awk '{ print $2 }') on $(nproc) cores, $(date -u +%Y-%m-%d)"
[[ $HAVE_HYPERFINE == 1 ]] && echo "timing with $(hyperfine --version)" || echo "timing with a bash loop"

time_op "openssl genrsa 2048" "$RUNS" "" "openssl genrsa -out $OUT/rsa2048.key 2048"
time_op "openssl genrsa 4096" "$SLOW_RUNS" "" "openssl genrsa -out $OUT/rsa4096.key 4096"
time_op "openssl ecparam -genkey prime256v1" "$RUNS" "" \
    "openssl ecparam -genkey -name prime256v1 -noout -out $OUT/p256.key"
time_op "openssl ecparam -genkey secp384r1" "$RUNS" "" \
    "openssl ecparam -genkey -name secp384r1 -noout -out $OUT/p384.key"
for t in rsa2048 p384; do
    time_op "openssl x509 -req (sign a CSR, $t CA)" "$RUNS" "" \
        "openssl x509 -req -in $S/leaf-$t.csr -CA $S/ca-$t.pem -CAkey $S/ca-$t.key -days 365 -extfile $S/peer.cnf -extensions peer -copy_extensions copy -out $S/leaf-$t.pem"
done
for t in rsa2048 p384; do
    time_op "openssl verify -verify_hostname (one leaf, $t CA)" "$RUNS" "" \
        "openssl verify -CAfile $S/ca-$t.pem -verify_hostname node.example.io $S/leaf-$t.pem"
    if [[ -x $REPO/target/release/pkirun ]]; then
        time_op "pkirun verify --host (one leaf, $t CA)" "$RUNS" "" \
            "$REPO/target/release/pkirun verify --ca $S/ca-$t.pem --host node.example.io $S/leaf-$t.pem"
    fi
done
time_op "cockroach procedure (openssl CLI, 17 cmds)" "$SLOW_RUNS" \
    "rm -rf $OUT/cockroach && mkdir -p $OUT/cockroach" \
    "bash $OUT/cockroach-openssl.sh $OUT/cockroach"
if [[ -x $REPO/target/release/pkirun ]]; then
    time_op "cockroach procedure (pkirun CLI, 1 process)" "$SLOW_RUNS" \
        "rm -rf $OUT/cockroach-pkirun && mkdir -p $OUT/cockroach-pkirun" \
        "$REPO/target/release/pkirun $REPO/scripts/cockroach.rhai -C $OUT/cockroach-pkirun --quiet"
fi
rm -f "$OUT/hf.csv"
echo "results: $RESULTS"
