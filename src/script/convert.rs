//! Converting Rhai values (maps, arrays, strings) into core types, with errors that name the
//! option at fault. Only the Rhai plumbing lives here (a value to a string, list or map); what
//! the strings mean is parsed by the core ([`crate::pki::config`]).

use rhai::{Array, Dynamic, Map};

use crate::pki::{
    AuthorityKeyId, BasicConstraints, CANONICAL_ORDER, CopyExtensions, DistinguishedName,
    NamePolicy, PolicyRule, Profile, San, Usages, Validity,
};

/// A conversion error message (becomes a script runtime error at the call's position).
pub type ConvResult<T> = Result<T, String>;

/// Reads a value as a list of strings: an array of strings, or one comma-separated string.
///
/// # Errors
/// Anything else, naming `field`.
pub fn string_list(field: &str, v: &Dynamic) -> ConvResult<Vec<String>> {
    if let Some(s) = v.clone().try_cast::<rhai::ImmutableString>() {
        return Ok(s
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect());
    }
    if let Some(arr) = v.clone().try_cast::<Array>() {
        return arr
            .into_iter()
            .map(|x| {
                x.into_immutable_string()
                    .map(|s| s.to_string())
                    .map_err(|t| format!("`{field}`: expected strings, found {t}"))
            })
            .collect();
    }
    Err(format!(
        "`{field}`: expected an array of strings or a comma-separated string, found {}",
        v.type_name()
    ))
}

/// Reads a value as one string, naming `field` when it is not one.
///
/// # Errors
/// Anything but a string.
pub fn string(field: &str, v: &Dynamic) -> ConvResult<String> {
    v.clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|t| format!("`{field}`: expected a string, found {t}"))
}

pub(crate) fn int(field: &str, v: &Dynamic) -> ConvResult<i64> {
    if let Ok(i) = v.as_int() {
        return Ok(i);
    }
    if let Ok(s) = v.clone().into_immutable_string() {
        if let Ok(i) = s.trim().parse() {
            return Ok(i);
        }
    }
    Err(format!(
        "`{field}`: expected an integer, found {}",
        v.type_name()
    ))
}

/// A setting given as `true` / `false` or as one of its openssl words (`copy_extensions`,
/// `authority_key_id`).
fn switch_or_word<T: From<bool>, E: ToString>(
    field: &str,
    v: &Dynamic,
    parse: impl Fn(&str) -> Result<T, E>,
) -> ConvResult<T> {
    match v.as_bool() {
        Ok(b) => Ok(T::from(b)),
        Err(_) => parse(&string(field, v)?).map_err(|e| e.to_string()),
    }
}

fn boolean(field: &str, v: &Dynamic) -> ConvResult<bool> {
    if let Ok(b) = v.as_bool() {
        return Ok(b);
    }
    match v.clone().into_immutable_string().as_deref().map(str::trim) {
        Ok("true" | "yes" | "1") => Ok(true),
        Ok("false" | "no" | "0") => Ok(false),
        _ => Err(format!(
            "`{field}`: expected true or false, found {}",
            v.type_name()
        )),
    }
}

/// Checks that `opts` has only `known` keys, so a typo is an error rather than ignored.
///
/// # Errors
/// The first unknown key, with the list of known ones.
pub fn check_keys(what: &str, opts: &Map, known: &[&str]) -> ConvResult<()> {
    for k in opts.keys() {
        if !known.contains(&k.as_str()) {
            return Err(format!(
                "{what}: unknown option `{k}` (known: {})",
                known.join(", ")
            ));
        }
    }
    Ok(())
}

/// Reads a subject: a string (`"/O=x/CN=y"` or `"O=x, CN=y"`), a map (`#{ O: "x", CN: "y" }`,
/// written in the canonical order C, ST, L, O, OU, CN; a value may be an array for several OU),
/// or an array of `"F=V"` strings / `[F, V]` pairs kept in the order given.
///
/// # Errors
/// An unknown field or an invalid value.
pub fn subject(v: &Dynamic) -> ConvResult<DistinguishedName> {
    let err = |e: crate::pki::Error| format!("`subject`: {e}");
    if v.is_unit() {
        return Ok(DistinguishedName::new());
    }
    if let Some(s) = v.clone().try_cast::<rhai::ImmutableString>() {
        return DistinguishedName::parse(&s).map_err(err);
    }
    let mut dn = DistinguishedName::new();
    if let Some(map) = v.clone().try_cast::<Map>() {
        for k in map.keys() {
            if !CANONICAL_ORDER.iter().any(|c| c.eq_ignore_ascii_case(k)) {
                let mut probe = DistinguishedName::new();
                probe.push(k, "x").map_err(err)?;
                return Err(format!(
                    "`subject`: field `{k}` has no canonical position in a map; give the subject as an array of \"F=V\" strings to order it"
                ));
            }
        }
        for field in CANONICAL_ORDER {
            let Some(val) = map
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(field))
                .map(|(_, v)| v)
            else {
                continue;
            };
            for value in string_list_raw(field, val)? {
                dn.push(field, &value).map_err(err)?;
            }
        }
        return Ok(dn);
    }
    if let Some(arr) = v.clone().try_cast::<Array>() {
        for item in arr {
            if let Some(pair) = item.clone().try_cast::<Array>() {
                if pair.len() != 2 {
                    return Err("`subject`: pairs must be [FIELD, VALUE]".into());
                }
                dn.push(&string("subject", &pair[0])?, &string("subject", &pair[1])?)
                    .map_err(err)?;
            } else {
                let s = string("subject", &item)?;
                let (k, val) = s
                    .split_once('=')
                    .ok_or_else(|| format!("`subject`: `{s}` is not FIELD=VALUE"))?;
                // `+FIELD=VALUE`: in the same RDN as the one before (a multi-valued RDN).
                match k.trim().strip_prefix('+') {
                    Some(k) => dn.push_joined(k.trim(), val.trim()),
                    None => dn.push(k.trim(), val.trim()),
                }
                .map_err(err)?;
            }
        }
        return Ok(dn);
    }
    Err(format!(
        "`subject`: expected a string, map or array, found {}",
        v.type_name()
    ))
}

/// A list of values without comma splitting (a subject value may contain commas).
fn string_list_raw(field: &str, v: &Dynamic) -> ConvResult<Vec<String>> {
    if v.is_array() {
        string_list(field, v)
    } else {
        Ok(vec![string(field, v)?])
    }
}

/// Reads SANs from an array or comma-separated string.
///
/// # Errors
/// An invalid SAN, naming it.
pub fn sans(field: &str, v: &Dynamic) -> ConvResult<Vec<San>> {
    string_list(field, v)?
        .iter()
        .map(|s| San::parse(s).map_err(|e| format!("`{field}`: {e}")))
        .collect()
}

/// Reads `basic_constraints`: openssl's string (`"critical,CA:true,pathlen:1"`), a map
/// `#{ ca: true, pathlen: 1, critical: true }` (critical unless said otherwise), or `()` /
/// `false` for none.
///
/// # Errors
/// A value of another type, an unknown map key or part, or a pathlen outside 0-255.
pub fn basic_constraints(v: &Dynamic) -> ConvResult<Option<BasicConstraints>> {
    if v.is_unit() {
        return Ok(None);
    }
    if let Ok(false) = v.as_bool() {
        return Ok(None);
    }
    if let Some(s) = v.clone().try_cast::<rhai::ImmutableString>() {
        return BasicConstraints::parse(&s)
            .map(Some)
            .map_err(|e| e.to_string());
    }
    let map = v
        .clone()
        .try_cast::<Map>()
        .ok_or("`basic_constraints`: expected a map #{ ca: true, pathlen: 1, critical: true } or a string \"critical,CA:true,pathlen:1\"")?;
    check_keys("`basic_constraints`", &map, &["ca", "pathlen", "critical"])?;
    let path_len = match map.get("pathlen") {
        Some(p) if !p.is_unit() => Some(
            u8::try_from(int("basic_constraints.pathlen", p)?)
                .map_err(|_| "`basic_constraints.pathlen`: must be 0-255".to_string())?,
        ),
        _ => None,
    };
    Ok(Some(BasicConstraints {
        ca: map
            .get("ca")
            .map_or(Ok(false), |b| boolean("basic_constraints.ca", b))?,
        path_len,
        critical: map
            .get("critical")
            .map_or(Ok(true), |b| boolean("basic_constraints.critical", b))?,
    }))
}

/// Option names that describe a signing profile.
pub const PROFILE_KEYS: &[&str] = &[
    "profile",
    "days",
    "hours",
    "expiry",
    "key_usage",
    "ext_key_usage",
    "usages",
    "basic_constraints",
    "copy_extensions",
    "policy",
    "san_critical",
    "authority_key_id",
    "subject_key_id",
    "backdate",
    "allowed_names",
    "allow_weak_keys",
    "allow_sha1",
    "allow_long_names",
    "clamp_to_ca",
    "allow_outliving_ca",
    "permitted",
    "excluded",
    "digest",
    "crl_distribution_points",
    "ocsp",
    "ca_issuers",
];

/// Builds a [`Profile`] from script options: `profile` (a built-in name) first, then every
/// other option overrides it.
///
/// # Errors
/// An invalid value, naming the option.
pub fn profile(opts: &Map, base: Profile) -> ConvResult<Profile> {
    fn pe(field: &'static str) -> impl Fn(crate::pki::Error) -> String {
        move |e| format!("`{field}`: {e}")
    }
    let mut p = match opts.get("profile") {
        Some(name) => Profile::named(&string("profile", name)?).map_err(|e| e.to_string())?,
        None => base,
    };
    if let Some(v) = opts.get("days") {
        p.validity = Validity::days(int("days", v)?).map_err(pe("days"))?;
    }
    if opts.contains_key("permitted") || opts.contains_key("excluded") {
        let list = |k: &str| -> ConvResult<Vec<String>> {
            opts.get(k).map_or(Ok(Vec::new()), |v| string_list(k, v))
        };
        p.name_constraints = Some(
            crate::pki::name_constraints::from_names(&list("permitted")?, &list("excluded")?)
                .map_err(|e| e.to_string())?,
        );
    }
    if let Some(v) = opts.get("hours") {
        p.validity = Validity::hours(int("hours", v)?).map_err(pe("hours"))?;
    }
    if let Some(v) = opts.get("expiry") {
        p.validity = Validity::parse(&string("expiry", v)?).map_err(pe("expiry"))?;
    }
    if let Some(v) = opts.get("key_usage") {
        let (ku, crit) =
            Usages::parse_key_usage(&string_list("key_usage", v)?).map_err(pe("key_usage"))?;
        p.key_usage = ku;
        p.key_usage_critical = crit;
    }
    if let Some(v) = opts.get("ext_key_usage") {
        let (eku, crit) = Usages::parse_ext_key_usage(&string_list("ext_key_usage", v)?)
            .map_err(pe("ext_key_usage"))?;
        p.ext_key_usage = eku;
        p.ext_key_usage_critical = crit;
    }
    if let Some(v) = opts.get("usages") {
        p.set_usages(Usages::parse_mixed(&string_list("usages", v)?).map_err(pe("usages"))?);
    }
    if let Some(v) = opts.get("basic_constraints") {
        p.basic_constraints = basic_constraints(v)?;
    }
    if let Some(v) = opts.get("copy_extensions") {
        p.copy_extensions = switch_or_word("copy_extensions", v, CopyExtensions::parse)?;
    }
    if let Some(v) = opts.get("policy") {
        p.policy = policy(v)?;
    }
    if let Some(v) = opts.get("san_critical") {
        p.san_critical = Some(boolean("san_critical", v)?);
    }
    if let Some(v) = opts.get("authority_key_id") {
        p.authority_key_id = switch_or_word("authority_key_id", v, AuthorityKeyId::parse)?;
    }
    if let Some(v) = opts.get("subject_key_id") {
        p.subject_key_id = boolean("subject_key_id", v)?;
    }
    if let Some(v) = opts.get("backdate") {
        p.backdate_seconds = u64::try_from(int("backdate", v)?)
            .map_err(|_| "`backdate`: must be zero or more seconds".to_string())?;
    }
    if let Some(v) = opts.get("allowed_names") {
        p.signing.allowed_names = allowed_names(v)?;
    }
    for (key, list) in [
        ("crl_distribution_points", &mut p.crl_distribution_points),
        ("ocsp", &mut p.ocsp),
        ("ca_issuers", &mut p.ca_issuers),
    ] {
        if let Some(v) = opts.get(key) {
            let uris = string_list(key, v)?;
            for uri in &uris {
                crate::pki::profile::check_uri(key, uri).map_err(|e| e.to_string())?;
            }
            *list = uris;
        }
    }
    if let Some(v) = opts.get("digest") {
        p.signing.digest =
            crate::pki::Digest::parse(&string("digest", v)?).map_err(|e| e.to_string())?;
    }
    let opt_outs: [(&str, &mut bool); 5] = [
        ("allow_weak_keys", &mut p.signing.allow_weak_keys),
        ("allow_sha1", &mut p.signing.allow_sha1),
        ("allow_long_names", &mut p.signing.allow_long_names),
        ("clamp_to_ca", &mut p.signing.clamp_to_ca),
        ("allow_outliving_ca", &mut p.signing.allow_outliving_ca),
    ];
    for (key, flag) in opt_outs {
        if let Some(v) = opts.get(key) {
            *flag = boolean(key, v)?;
        }
    }
    Ok(p)
}

/// Reads `allowed_names`: an array of patterns or one comma-separated string
/// (`["*.db.internal", "10.0.0.0/16", "@example.com", "spiffe://cluster/*"]`).
///
/// # Errors
/// A value of another type or a pattern that is not one of the kinds
/// [`NamePolicy`] knows.
pub fn allowed_names(v: &Dynamic) -> ConvResult<NamePolicy> {
    NamePolicy::parse(&string_list("allowed_names", v)?).map_err(|e| e.to_string())
}

/// Reads `policy`: a map of field → rule (put in canonical order) or a list of
/// `"FIELD=RULE"` strings (kept in order).
fn policy(v: &Dynamic) -> ConvResult<Vec<(String, PolicyRule)>> {
    if let Some(map) = v.clone().try_cast::<Map>() {
        let pairs = map
            .iter()
            .map(|(k, rule)| Ok((k.to_string(), string("policy", rule)?)))
            .collect::<ConvResult<Vec<_>>>()?;
        return PolicyRule::parse_map(&pairs).map_err(|e| e.to_string());
    }
    PolicyRule::parse_list(&string_list("policy", v)?).map_err(|e| e.to_string())
}

/// Reads an optional boolean option.
///
/// # Errors
/// A non-boolean value.
pub fn opt_bool(opts: &Map, key: &str) -> ConvResult<Option<bool>> {
    opts.get(key).map(|v| boolean(key, v)).transpose()
}

/// Reads an optional integer option.
///
/// # Errors
/// A non-integer value.
pub fn opt_int(opts: &Map, key: &str) -> ConvResult<Option<i64>> {
    opts.get(key).map(|v| int(key, v)).transpose()
}

/// Reads an optional string option.
///
/// # Errors
/// A non-string value.
pub fn opt_string(opts: &Map, key: &str) -> ConvResult<Option<String>> {
    opts.get(key).map(|v| string(key, v)).transpose()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Evaluates `expr` in a script that imported the embedded `profiles` module as `p`.
    fn with_profiles(expr: &str) -> Map {
        let mut engine = rhai::Engine::new();
        engine.set_module_resolver(super::super::stdlib::resolver(None));
        engine
            .eval::<Map>(&format!("import \"profiles\" as p; {expr}"))
            .unwrap()
    }

    #[test]
    fn stdlib_profiles_are_the_rust_presets_with_a_validity() {
        // The bases ca.sign, new_ca and issue_batch's `profiles` start from.
        let bases = [
            Profile::default(),
            Profile::named("ca").unwrap(),
            Profile::named("peer").unwrap(),
        ];
        for name in ["server", "client", "peer", "ca"] {
            let map = with_profiles(&format!("p::{name}(30)"));
            let expected = Profile {
                validity: Validity::days(30).unwrap(),
                ..Profile::named(name).unwrap()
            };
            for base in &bases {
                assert_eq!(profile(&map, base.clone()).unwrap(), expected, "p::{name}");
            }
        }
        assert_eq!(
            Profile::named("ca").unwrap().copy_extensions,
            CopyExtensions::None,
            "a CA copies nothing from the request, as openssl's v3_ca"
        );
    }

    #[test]
    fn stdlib_profiles_take_overrides() {
        let map =
            with_profiles(r#"p::server(30) + #{ ext_key_usage: ["serverAuth", "clientAuth"] }"#);
        assert_eq!(
            profile(&map, Profile::default()).unwrap(),
            Profile {
                validity: Validity::days(30).unwrap(),
                ..Profile::named("peer").unwrap()
            }
        );
    }

    #[test]
    fn profile_options_use_the_core_parsers_and_keep_their_messages() {
        let opts = |src: &str| rhai::Engine::new().eval::<Map>(src).unwrap();
        let p = profile(
            &opts(r#"#{ basic_constraints: "critical,CA:true,pathlen:2", authority_key_id: "keyid,issuer:always",
                       copy_extensions: true, policy: #{ cn: "supplied", o: "match" } }"#),
            Profile::default(),
        )
        .unwrap();
        assert_eq!(
            p.basic_constraints,
            Some(BasicConstraints {
                ca: true,
                path_len: Some(2),
                critical: true
            })
        );
        assert_eq!(p.authority_key_id, AuthorityKeyId::KeyIdAndIssuer);
        assert_eq!(p.copy_extensions, CopyExtensions::Copy);
        let rules: Vec<String> = p.policy.iter().map(|(f, r)| format!("{f}={r}")).collect();
        assert_eq!(rules, ["O=match", "CN=supplied"]);
        let err = |src: &str| profile(&opts(src), Profile::default()).unwrap_err();
        assert_eq!(
            err(r#"#{ basic_constraints: "CA:yes" }"#),
            "`basic_constraints`: `CA:yes` (expected CA:true or CA:false)"
        );
        assert_eq!(
            err(r#"#{ basic_constraints: #{ ca: true, pathlen: 256 } }"#),
            "`basic_constraints.pathlen`: must be 0-255"
        );
        assert_eq!(
            err(r#"#{ authority_key_id: "issuer" }"#),
            "`authority_key_id`: `issuer` (expected keyid, keyid:always, keyid,issuer:always or none)"
        );
        assert_eq!(
            err(r#"#{ policy: ["O"] }"#),
            "`policy`: `O` is not FIELD=RULE"
        );
        assert_eq!(
            err(r#"#{ usages: ["signing", "frobnicate"] }"#)
                .split(" (known")
                .next(),
            Some("`usages`: unknown key usage `frobnicate`")
        );
    }
}
