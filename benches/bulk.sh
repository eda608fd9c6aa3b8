#!/usr/bin/env bash
# Bulk issuance, pkirun against the openssl and cfssl loops operators run today, in one run on
# one machine (issue 5). Prints one Markdown table and the targets, pass or fail.
#
#   bash benches/bulk.sh [N] [OUTDIR]     # N=1000 by default; OUTDIR: target/bulk-bench
#
#   (a) pkirun issue_batch of an N-row CSV inventory (benches/bulk.rhai), P-384 and RSA-2048
#       keys, --threads 1 and all threads (the speed-up);
#   (b) pkirun sign_batch of N CSRs (made by pkirun beforehand, untimed) with an RSA-2048 CA
#       and a P-384 CA;
#   (c) an openssl loop, per certificate `openssl req -new -newkey ... -nodes` then
#       `openssl x509 -req -CA ...`, run with `xargs -P $(nproc)`;
#   (d) a `cfssl gencert | cfssljson` loop and a `cfssl sign | cfssljson` loop of the same CSRs,
#       same parallelism;
#   (e) peak RSS of pkirun issue_batch (P-384, all threads) at RSS_N and 10 x RSS_N certificates
#       (/usr/bin/time -v's "Maximum resident set size"), the inventory streamed from CSV.
#
# Every tool signs with the same CA files (made by pkirun: ca.pem, PKCS#8 ca-key.pem) and writes
# its outputs under OUTDIR. Rates are certificates per second of wall time, process start-up and
# the validation pass included. Environment:
#   PEER_N   certificates per openssl/cfssl loop (default min(N, 300): the loops are slow; the
#            rate is what is compared)
#   RSA_N    certificates for pkirun issue_batch with RSA-2048 keys (default N)
#   RSS_N    smaller size of the RSS pair (default N); SKIP_RSS=1 skips (e)
#   JOBS     parallel loop workers (default nproc)
#   REPEAT   runs of each short pkirun measurement (P-384 issue_batch, sign_batch), the median
#            is reported (default 7; 1-thread and all-threads runs alternate); RSA
#            issue_batch runs once
#   KEEP=1   keep the issued files (OUTDIR/runs) instead of removing them at the end
# Table columns beyond the rates: peak RSS of pkirun; CPU ms/cert, user + system time of the
# command and all its children per certificate (a cost that other work on the machine barely
# changes); CPU wait %, the share of the wall time in which some task on the machine was
# runnable but had no CPU (/proc/pressure/cpu): other work on the machine, or the command's own
# threads beyond the cores (cfssl's Go runtime); high values for pkirun rows mean the figures,
# the speed-up above all, were taken on a busy machine.
# File system: this machine's root is ext4 without a journal, where creating a file within a
# few minutes of deleting many in the same block group costs up to ~1 ms (inode allocation
# skips recently deleted inodes). pkirun's rate (2 files per certificate, ~0.7 ms of CPU) is
# the one that suffers: the script deletes nothing before its timed runs, but leave ~5 minutes
# after a run that deleted many files (this script's own clean-up included) before timing.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
N=${1:-1000}
OUT=${2:-$REPO/target/bulk-bench}
PEER_N=${PEER_N:-$((N < 300 ? N : 300))}
RSA_N=${RSA_N:-$N}
RSS_N=${RSS_N:-$N}
SKIP_RSS=${SKIP_RSS:-0}
JOBS=${JOBS:-$(nproc)}
REPEAT=${REPEAT:-7}

# ---- tools -----------------------------------------------------------------------------------
apt_updated=0
apt_install() {
    # Another engineer may hold the dpkg lock: wait for it.
    local i
    for i in $(seq 1 60); do
        if [[ $apt_updated == 0 ]]; then
            apt-get update -qq >/dev/null 2>&1 && apt_updated=1 || { sleep 10; continue; }
        fi
        apt-get -o DPkg::Lock::Timeout=600 install -y -qq "$@" >/dev/null && return 0
        sleep 10
    done
    echo "cannot install $*" >&2
    return 1
}
command -v openssl >/dev/null || apt_install openssl
command -v cfssl >/dev/null && command -v cfssljson >/dev/null || apt_install golang-cfssl
[[ -x /usr/bin/time ]] || apt_install time

echo "building pkirun (cargo build --release)..." >&2
(cd "$REPO" && cargo build --release --quiet)
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# A private copy: a concurrent build must not swap the binary in the middle of the run.
cp "$REPO/target/release/pkirun" "$OUT/pkirun"
PKIRUN="$OUT/pkirun"
SCRIPT="$REPO/benches/bulk.rhai"
RESULTS="$OUT/results.tsv"
LOG="$OUT/bulk.log"
: >"$RESULTS"
: >"$LOG"
cd "$OUT"

pk() { "$PKIRUN" "$SCRIPT" -C "$OUT" --quiet "$@"; }

# timed KEY N CMD...: wall seconds (date +%s%N), peak RSS (KiB), user + system CPU seconds of
# CMD and its children, and how much of the wall time some task on the machine waited for a CPU
# (/proc/pressure/cpu: other work on a shared machine shows up there), into RESULTS.
timed() {
    local key=$1 n=$2
    shift 2
    sync # earlier runs' dirty pages are not this run's to flush
    local t0 t1 p0 p1
    p0=$(cpu_stall_us)
    t0=$(date +%s%N)
    if ! /usr/bin/time -v -o "$OUT/time.txt" "$@" >>"$LOG" 2>&1; then
        echo "failed: $* (see $LOG)" >&2
        exit 1
    fi
    t1=$(date +%s%N)
    p1=$(cpu_stall_us)
    awk -F': ' -v k="$key" -v n="$n" -v ns=$((t1 - t0)) -v stall=$((p1 - p0)) '
        /Maximum resident set size/ { rss = $2 }
        /User time \(seconds\)/ { cpu += $2 }
        /System time \(seconds\)/ { cpu += $2 }
        END { printf "%s\t%d\t%.3f\t%d\t%.2f\t%.0f\n", k, n, ns / 1e9, rss, cpu, (stall > 0 ? 100 * stall * 1000 / ns : 0) }
    ' "$OUT/time.txt" >>"$RESULTS"
    tail -n 1 "$RESULTS" | awk -F'\t' '{ printf "  %-24s %7d certs %8.2f s %8.1f certs/s  CPU %.2f ms/cert  CPU wait %d%%\n", $1, $2, $3, $2 / $3, 1000 * $5 / $2, $6 }' >&2
}

cpu_stall_us() { awk '/^some/ { sub("total=", "", $5); print $5 }' /proc/pressure/cpu 2>/dev/null || echo 0; }

# expect DIR COUNT CA: DIR holds COUNT certificates (*.pem but keys, CSRs and manifests) and
# the first verifies against CA.
expect() {
    local dir=$1 n=$2 ca=$3 got one
    got=$(find "$dir" -name '*.pem' ! -name '*-key.pem' | wc -l)
    if [[ $got != "$n" ]]; then
        echo "$dir: $got certificates, expected $n (see $LOG)" >&2
        exit 1
    fi
    one=$(find "$dir" -name '*.pem' ! -name '*-key.pem' -print -quit)
    openssl verify -CAfile "$ca/ca.pem" "$one" >/dev/null
}

# Outputs of timed runs go to runs/ and are removed only at the end: this machine's root file
# system is ext4 without a journal, where allocating an inode skips every inode deleted in the
# last minute(s) of its group, so creating files right after deleting thousands costs ~1 ms each
# (the "/tmp is slow" effect). A previous invocation's runs/ is set aside now and removed last.
fresh() { mkdir -p "$1"; }

# median KEY: of the rows KEY.r1, KEY.r2, ... the one with the median wall time, as KEY.
median() {
    awk -F'\t' -v k="$1" 'index($1, k ".r") == 1 { print }' "$RESULTS" | sort -t $'\t' -k3,3g |
        awk -F'\t' -v k="$1" '{ row[NR] = $0 } END { $0 = row[int((NR + 1) / 2)]; OFS = "\t"; $1 = k; print }' >>"$RESULTS"
}

inventory() { # inventory N FILE: CSV with name, hosts (DNS;IP), o
    [[ -f $2 ]] && return 0
    awk -v n="$1" 'BEGIN {
        print "name,hosts,o"
        for (i = 1; i <= n; i++)
            printf "node%d,node%d.db.internal;10.%d.%d.%d,Example\n", i, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
    }' >"$2.part" && mv "$2.part" "$2"
}

echo "pkirun $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'), $(openssl version | awk '{ print "openssl", $2 }'), cfssl $(cfssl version | awk '/Version/ { print $2 }'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg), $(date -u '+%Y-%m-%d %H:%M UTC')" |
    tee "$OUT/machine.txt" >&2

[[ -d runs ]] && mv runs "old-runs.$$"
mkdir -p runs

# ---- inputs (untimed) ------------------------------------------------------------------------
pk -D ca_dir=ca-p384 -D ca_key=ecdsa:384 >>"$LOG" 2>&1
pk -D ca_dir=ca-rsa2048 -D ca_key=rsa:2048 >>"$LOG" 2>&1
inventory "$N" "inventory-$N.csv"
inventory "$RSA_N" "inventory-$RSA_N.csv"
for t in rsa2048 p384; do
    spec=$([[ $t == p384 ]] && echo ecdsa:384 || echo rsa:2048)
    if [[ $(find "csrs-$t" -name '*.csr' 2>/dev/null | wc -l) != "$N" ]]; then
        rm -rf "csrs-$t"
        pk -D make_csrs="$N" -D csr_key="$spec" -D csr_dir="csrs-$t" >>"$LOG" 2>&1
    fi
done
cp "$REPO/benches/peer.cnf" peer.cnf
cat >cfssl.json <<'EOF'
{ "signing": { "default": { "expiry": "8760h" },
  "profiles": { "peer": { "expiry": "8760h",
    "usages": ["signing", "key encipherment", "server auth", "client auth"] } } } }
EOF
# One certificate per call, as a shell loop does it: workers for xargs.
cat >openssl-one.sh <<'EOF'
t=$1 d=$2 i=$3
case $t in
    p384) nk=(-newkey ec -pkeyopt ec_paramgen_curve:P-384) ;;
    rsa2048) nk=(-newkey rsa:2048) ;;
esac
ip="10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
openssl req -new "${nk[@]}" -nodes -keyout "$d/node$i-key.pem" -subj "/O=Example/CN=node$i" \
    -addext "subjectAltName=DNS:node$i.db.internal,IP:$ip" -out "$d/node$i.csr" 2>/dev/null
openssl x509 -req -in "$d/node$i.csr" -CA "ca-$t/ca.pem" -CAkey "ca-$t/ca-key.pem" -days 365 \
    -copy_extensions copy -extfile peer.cnf -extensions peer -out "$d/node$i.pem" 2>/dev/null
EOF
cat >cfssl-gencert-one.sh <<'EOF'
t=$1 d=$2 i=$3
case $t in
    p384) key='"algo":"ecdsa","size":384' ;;
    rsa2048) key='"algo":"rsa","size":2048' ;;
esac
ip="10.$((i / 65536 % 256)).$((i / 256 % 256)).$((i % 256))"
echo "{\"CN\":\"node$i\",\"key\":{$key},\"names\":[{\"O\":\"Example\"}]}" |
    cfssl gencert -loglevel 5 -ca "ca-$t/ca.pem" -ca-key "ca-$t/ca-key.pem" -config cfssl.json \
        -profile peer -hostname "node$i.db.internal,$ip" - | cfssljson -bare "$d/node$i"
EOF
cat >cfssl-sign-one.sh <<'EOF'
t=$1 d=$2 i=$3
cfssl sign -loglevel 5 -ca "ca-$t/ca.pem" -ca-key "ca-$t/ca-key.pem" -config cfssl.json \
    -profile peer "csrs-$t/node$i.csr" | cfssljson -bare "$d/node$i"
EOF

# ---- (a) pkirun issue_batch ------------------------------------------------------------------
echo "timing (log: $LOG)" >&2
# rounds KEY N REPS CA OUT ARGS...: REPS rounds of pkirun with ARGS, each a 1-thread run then an
# all-threads run (alternating, so that a drift in the machine's state, writeback or the file
# system's inode allocation, falls on both sides of the speed-up alike); outputs OUT under
# runs/KEY-<threads>-<round>; records KEY.<threads>.r<round> and the medians KEY.1, KEY.all.
rounds() {
    local key=$1 n=$2 reps=$3 ca=$4 out=$5
    shift 5
    local r th d threads
    for r in $(seq 1 "$reps"); do
        for th in 1 all; do
            threads=()
            [[ $th == 1 ]] && threads=(--threads 1)
            d="runs/${key/./-}-$th-$r"
            fresh "$d"
            timed "$key.$th.r$r" "$n" "$PKIRUN" "$SCRIPT" -C "$OUT" --quiet "${threads[@]}" \
                -D ca_dir="$ca" "$@" -D out="$d/$out" -D manifest="$d/manifest.jsonl"
            expect "$d" "$n" "$ca"
        done
    done
    median "$key.1"
    median "$key.all"
}

for t in p384 rsa2048; do
    spec=$([[ $t == p384 ]] && echo ecdsa:384 || echo rsa:2048)
    n=$([[ $t == p384 ]] && echo "$N" || echo "$RSA_N")
    reps=$([[ $t == p384 ]] && echo "$REPEAT" || echo 1)
    rounds "issue.$t" "$n" "$reps" "ca-$t" "certs/{name}" -D inventory="inventory-$n.csv" -D key="$spec"
done

# ---- (b) pkirun sign_batch -------------------------------------------------------------------
for t in rsa2048 p384; do
    rounds "sign.$t" "$N" "$REPEAT" "ca-$t" "{name}.pem" -D csrs="csrs-$t"
done

# ---- (c), (d) the peers ----------------------------------------------------------------------
for t in p384 rsa2048; do
    d="runs/openssl-$t"
    fresh "$d"
    timed "openssl.$t" "$PEER_N" bash -c "seq 1 $PEER_N | xargs -P $JOBS -n 1 bash openssl-one.sh $t $d"
    expect "$d" "$PEER_N" "ca-$t"
    d="runs/cfssl-gencert-$t"
    fresh "$d"
    timed "cfssl-gencert.$t" "$PEER_N" bash -c "seq 1 $PEER_N | xargs -P $JOBS -n 1 bash cfssl-gencert-one.sh $t $d"
    expect "$d" "$PEER_N" "ca-$t"
    d="runs/cfssl-sign-$t"
    fresh "$d"
    timed "cfssl-sign.$t" "$PEER_N" bash -c "seq 1 $PEER_N | xargs -P $JOBS -n 1 bash cfssl-sign-one.sh $t $d"
    expect "$d" "$PEER_N" "ca-$t"
done

# ---- (e) peak RSS at RSS_N and 10 x RSS_N ----------------------------------------------------
if [[ $SKIP_RSS != 1 ]]; then
    for n in "$RSS_N" $((RSS_N * 10)); do
        if [[ $n == "$N" ]]; then
            # The all-threads P-384 run above is this measurement.
            awk -F'\t' -v n="$n" '$1 == "issue.p384.all" { OFS = "\t"; $1 = "rss." n; print }' "$RESULTS" >>"$RESULTS"
            continue
        fi
        inventory "$n" "inventory-$n.csv"
        d="runs/rss-$n"
        fresh "$d"
        timed "rss.$n" "$n" "$PKIRUN" "$SCRIPT" -C "$OUT" --quiet -D ca_dir=ca-p384 \
            -D inventory="inventory-$n.csv" -D key=ecdsa:384 -D out="$d/certs/{name}" \
            -D manifest="$d/manifest.jsonl"
        expect "$d" "$n" ca-p384
    done
fi

# ---- the table -------------------------------------------------------------------------------
TABLE="$OUT/table.md"
awk -F'\t' -v jobs="$JOBS" -v rss_n="$RSS_N" -v skip_rss="$SKIP_RSS" '
    { n[$1] = $2; s[$1] = $3; rss[$1] = $4 / 1024; cpu[$1] = $5; wait[$1] = $6; rate[$1] = $2 / $3 }
    # Each round r ran 1 thread, then all threads: their ratio is a paired speed-up.
    $1 ~ /^issue\.p384\.(1|all)\.r[0-9]+$/ { split($1, p, "."); wall[p[4], p[3]] = $3; if (p[3] == "all") rounds[++nr] = p[4] }
    function paired_speedup(   i, j, v, sorted) {
        for (i = 1; i <= nr; i++) {
            v = wall[rounds[i], "1"] / wall[rounds[i], "all"]
            for (j = i - 1; j >= 1 && sorted[j] > v; j--) sorted[j + 1] = sorted[j]
            sorted[j + 1] = v
        }
        return nr % 2 ? sorted[(nr + 1) / 2] : (sorted[nr / 2] + sorted[nr / 2 + 1]) / 2
    }
    function row(op, k, ratio, speedup, mem) {
        printf "| %s | %d | %.2f | %.1f | %s | %s | %s | %.2f | %d |\n", op, n[k], s[k], rate[k], ratio, speedup, mem, 1000 * cpu[k] / n[k], wait[k]
    }
    function x(a, b) { return sprintf("%.1fx", rate[a] / rate[b]) }
    function mib(k) { return sprintf("%.1f", rss[k]) }
    function check(what, value, limit, unit, cmp) {
        ok = (cmp == ">=") ? value >= limit : (cmp == "<") ? value < limit : value <= limit
        checks = checks sprintf("- %s: %s%s (target %s %s%s): %s\n", what, sprintf("%.2f", value), unit, cmp, limit, unit, ok ? "PASS" : "FAIL")
    }
    END {
        print "| operation | certs | wall s | certs/s | pkirun ÷ this | 1 → " jobs " threads | peak RSS MiB | CPU ms/cert | CPU wait % |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
        name["p384"] = "P-384"; name["rsa2048"] = "RSA-2048"
        split("p384 rsa2048", types, " ")
        for (i = 1; i <= 2; i++) {
            t = types[i]; T = name[t]
            row("pkirun issue_batch, " T " keys, 1 thread", "issue." t ".1", "", "", mib("issue." t ".1"))
            row("pkirun issue_batch, " T " keys, " jobs " threads", "issue." t ".all", "", x("issue." t ".all", "issue." t ".1"), mib("issue." t ".all"))
            row("openssl req -newkey + x509 -req loop, " T " (xargs -P" jobs ")", "openssl." t, x("issue." t ".all", "openssl." t), "", "")
            row("cfssl gencert \\| cfssljson loop, " T " (xargs -P" jobs ")", "cfssl-gencert." t, x("issue." t ".all", "cfssl-gencert." t), "", "")
        }
        split("rsa2048 p384", types, " ")
        for (i = 1; i <= 2; i++) {
            t = types[i]; T = name[t]
            row("pkirun sign_batch, " T " CA, 1 thread", "sign." t ".1", "", "", mib("sign." t ".1"))
            row("pkirun sign_batch, " T " CA, " jobs " threads", "sign." t ".all", "", x("sign." t ".all", "sign." t ".1"), mib("sign." t ".all"))
            row("cfssl sign \\| cfssljson loop, " T " CA (xargs -P" jobs ")", "cfssl-sign." t, x("sign." t ".all", "cfssl-sign." t), "", "")
        }
        big = rss_n * 10
        if (skip_rss != 1) {
            row("pkirun issue_batch, P-384 keys, " jobs " threads (RSS, N)", "rss." rss_n, "", "", mib("rss." rss_n))
            row("pkirun issue_batch, P-384 keys, " jobs " threads (RSS, 10N)", "rss." big, "", "", mib("rss." big))
        }
        check("P-384 key+cert vs openssl loop", rate["issue.p384.all"] / rate["openssl.p384"], 40, "x", ">=")
        check("P-384 key+cert vs cfssl gencert loop", rate["issue.p384.all"] / rate["cfssl-gencert.p384"], 20, "x", ">=")
        check("P-384 speed-up 1 → " jobs " threads", rate["issue.p384.all"] / rate["issue.p384.1"], 1.8, "x", ">=")
        checks = checks sprintf("  (median of the %d paired rounds, each 1-thread run against the %s-thread run right after it: %.2fx)\n", nr, jobs, paired_speedup())
        check("RSA-2048 key+cert vs openssl loop", rate["issue.rsa2048.all"] / rate["openssl.rsa2048"], 2, "x", ">=")
        check("RSA-2048 key+cert vs cfssl gencert loop", rate["issue.rsa2048.all"] / rate["cfssl-gencert.rsa2048"], 1.3, "x", ">=")
        check("sign_batch vs cfssl sign, RSA-2048 CA", rate["sign.rsa2048.all"] / rate["cfssl-sign.rsa2048"], 4, "x", ">=")
        check("sign_batch vs cfssl sign, P-384 CA", rate["sign.p384.all"] / rate["cfssl-sign.p384"], 10, "x", ">=")
        if (skip_rss != 1) {
            check("peak RSS at " big " P-384 certs", rss["rss." big], 200, " MiB", "<")
            check("peak RSS at " big " ÷ at " rss_n, rss["rss." big] / rss["rss." rss_n], 1.5, "x", "<=")
        }
        printf "\n%s", checks
    }' "$RESULTS" >"$TABLE"
echo
cat "$OUT/machine.txt"
echo
cat "$TABLE"
echo
echo "raw results: $RESULTS; log: $LOG"
if [[ ${KEEP:-0} == 1 ]]; then
    echo "outputs kept in $OUT/runs"
    rm -rf old-runs.*
else
    rm -rf old-runs.* runs
fi
