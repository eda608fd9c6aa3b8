//! Small script functions the procedure scripts need to check their parameters before they
//! generate anything, and the clock easyrsa puts into its CA name (`date +%s`).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use rhai::{Array, Dynamic, Engine, EvalAltResult};

use super::Ctx;
use super::convert;

type Res<T> = Result<T, Box<EvalAltResult>>;

/// Registers `unix_time`, `parse_sans`, `parse_ip` and `parse_subject`.
pub fn register(engine: &mut Engine, _ctx: &Arc<Ctx>) {
    func!(
        engine,
        "unix_time",
        ["i64"],
        "Seconds since 1970-01-01 UTC, like `date +%s` (easyrsa's CA name `${MASTER_IP}@<time>`).",
        || -> i64 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        }
    );
    func!(
        engine,
        "parse_sans",
        ["what: &str", "sans: Dynamic", "Array"],
        "Checks subject alternative names as new_csr would, without making anything: an array or a
        comma-separated string of `DNS:x`, `IP:1.2.3.4`, `URI:...`, `email:...` or bare hosts.
        Returns them typed (\"IP:10.0.0.1\", \"DNS:kubernetes\"); an invalid one is an error naming `what`.",
        |what: &str, sans: Dynamic| -> Res<Array> {
            Ok(convert::sans(what, &sans)?
                .iter()
                .map(|s| Dynamic::from(s.to_string()))
                .collect())
        }
    );
    func!(
        engine,
        "parse_ip",
        ["what: &str", "value: &str", "String"],
        "Checks that `value` is an IPv4 or IPv6 address and returns it in canonical form;
        otherwise an error naming `what` (e.g. parse_ip(\"MASTER_IP\", ip)).",
        |what: &str, value: &str| -> Res<String> {
            value
                .trim()
                .parse::<std::net::IpAddr>()
                .map(|ip| ip.to_string())
                .map_err(|_| format!("`{what}`: `{value}` is not an IPv4 or IPv6 address").into())
        }
    );
    func!(
        engine,
        "parse_subject",
        ["subject: Dynamic", "String"],
        "Checks a subject as new_csr / new_ca would (\"/C=US/CN=x\", #{ CN: \"x\" } or [\"C=US\", \"CN=x\"])
        and returns it as openssl prints it (\"C = US, CN = x\"); an invalid field is an error.",
        |subject: Dynamic| -> Res<String> { Ok(convert::subject(&subject)?.to_string()) }
    );
}
