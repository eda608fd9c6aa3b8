//! What the sections that configure `openssl req` and `openssl ca` say: `[ req ]` (which
//! sections make the subject and the extensions, `prompt`), `[ ca ]` → `[ CA_default ]` (the
//! CA directory's files, `default_days`, `default_md`, `copy_extensions`, `unique_subject`,
//! `policy`) and a policy section (`organizationName = supplied`). Every name openssl reads
//! there is known; one that would change a certificate in a way pkirun does not reproduce
//! (`preserve = yes`, `email_in_dn = no`, `string_mask = default`, request attributes) is an
//! error naming the file and line, as is a name openssl does not read (a typo).

use super::cnf::{Cnf, CnfError, CnfValue};
use super::cnf_sections::ExtensionSettings;
use crate::pki::algorithm::Digest;
use crate::pki::profile::{CopyExtensions, PolicyRule};

/// openssl's yes/no spellings (`yes`, `y`, `true`, `no`, ...): the first letter decides.
fn yes_no(v: &CnfValue) -> Result<bool, CnfError> {
    match v
        .value
        .trim()
        .chars()
        .next()
        .map(|c| c.to_ascii_lowercase())
    {
        Some('y' | 't' | '1') => Ok(true),
        Some('n' | 'f' | '0') => Ok(false),
        _ => Err(v.error(format!("`{}` is not yes or no", v.value))),
    }
}

fn digest(v: &CnfValue) -> Result<Option<Digest>, CnfError> {
    Digest::parse(&v.value).map_err(|_| {
        v.error(format!(
            "`{}`: pkirun signs with sha256, sha384, sha512 or sha1 (or default)",
            v.value.trim()
        ))
    })
}

fn days(v: &CnfValue) -> Result<u32, CnfError> {
    v.value
        .trim()
        .parse()
        .map_err(|_| v.error(format!("`{}` is not a number of days", v.value)))
}

/// The `[ req ]` section: what `openssl req -config F` reads to make a request or a
/// self-signed certificate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReqSettings {
    /// `prompt`: `false` with `prompt = no` (the subject section holds the values); `true`
    /// otherwise (the subject is each field's `_default`, as pressing Enter gives).
    pub prompt: bool,
    /// `distinguished_name`: the subject's section.
    pub distinguished_name: Option<String>,
    /// `x509_extensions`: the extension section of a self-signed certificate (`-x509`).
    pub x509_extensions: Option<String>,
    /// `req_extensions`: the extension section of a request.
    pub req_extensions: Option<String>,
    /// `default_md`; `None` when absent or `default`.
    pub default_md: Option<Digest>,
    /// `default_bits`: the RSA size `openssl req -newkey` makes (a key given with `-key` keeps
    /// its own).
    pub default_bits: Option<u32>,
}

impl Cnf {
    /// The `[ req ]` section.
    ///
    /// # Errors
    /// A missing section; a name `openssl req` does not read; `string_mask` other than
    /// `utf8only` (pkirun writes UTF8String); a non-empty `attributes` section (pkirun's
    /// requests carry no attributes); `dirstring_type`; a value that does not parse.
    pub fn req(&self) -> Result<ReqSettings, CnfError> {
        let values = self
            .section("req")
            .ok_or_else(|| self.error("no `[ req ]` section".into()))?;
        let mut out = ReqSettings {
            prompt: true,
            ..ReqSettings::default()
        };
        for v in values {
            let value = v.value.trim();
            match v.name.as_str() {
                "prompt" => out.prompt = !value.eq_ignore_ascii_case("no"),
                "distinguished_name" => out.distinguished_name = Some(value.into()),
                "x509_extensions" => out.x509_extensions = Some(value.into()),
                "req_extensions" => out.req_extensions = Some(value.into()),
                "default_md" => out.default_md = digest(v)?,
                "default_bits" => {
                    out.default_bits = Some(
                        value
                            .parse()
                            .map_err(|_| v.error(format!("`{value}` is not a number of bits")))?,
                    );
                }
                "string_mask" if value.eq_ignore_ascii_case("utf8only") => {}
                "string_mask" => {
                    return Err(v.error(format!(
                        "`{value}` encodes names as PrintableString where it can; pkirun \
                             writes UTF8String (string_mask = utf8only, OpenSSL 3's default)"
                    )));
                }
                "attributes" => {
                    if let Some(attr) = self.section(value)
                        && let Some(set) = attr
                            .iter()
                            .find(|a| !out.prompt || a.name.ends_with("_default"))
                    {
                        return Err(set.error(
                            "pkirun's requests carry no attributes (challengePassword, \
                             unstructuredName); remove the value",
                        ));
                    }
                }
                "dirstring_type" => {
                    return Err(v.error("pkirun writes UTF8String; remove the line"));
                }
                // Key generation and file handling: they change no request or certificate
                // made from a key pkirun is given.
                "default_keyfile" | "encrypt_key" | "encrypt_rsa_key" | "input_password"
                | "output_password" | "RANDFILE" | "utf8" | "oid_file" | "oid_section" => {}
                other => {
                    return Err(v.error(format!("`openssl req` reads no `{other}`")));
                }
            }
        }
        Ok(out)
    }

    /// What `openssl req -new -config F -key K` puts in a request: the subject and the
    /// `req_extensions` section (none without one).
    ///
    /// # Errors
    /// As [`Cnf::req`], [`Cnf::subject`] and [`Cnf::extensions`]; no `distinguished_name`; an
    /// authorityKeyIdentifier, subjectKeyIdentifier or nameConstraints in the request section
    /// (pkirun's requests do not carry them; the CA writes key identifiers).
    pub fn request(&self) -> Result<MadeByReq, CnfError> {
        let req = self.req()?;
        let extensions = match &req.req_extensions {
            Some(section) => {
                let e = self.extensions(section)?;
                for name in [
                    "authorityKeyIdentifier",
                    "subjectKeyIdentifier",
                    "nameConstraints",
                ] {
                    if let Some(v) = self.get_in(section, name) {
                        return Err(v.error(
                            "pkirun's requests do not carry it (the CA writes key identifiers, \
                             constraints and where its CRL and certificate are); move it to the \
                             signing section",
                        ));
                    }
                }
                e
            }
            None => ExtensionSettings::default(),
        };
        Ok(MadeByReq {
            subject: self.req_subject(&req)?,
            extensions,
            digest: req.default_md,
        })
    }

    /// What `openssl req -x509 -config F -key K` makes: the subject and the `x509_extensions`
    /// section.
    ///
    /// # Errors
    /// As [`Cnf::request`]; no `x509_extensions` (openssl would write its default CA
    /// extensions, which pkirun does not guess).
    pub fn self_signed(&self) -> Result<MadeByReq, CnfError> {
        let req = self.req()?;
        let section = req.x509_extensions.as_deref().ok_or_else(|| {
            self.error("`[ req ]` names no `x509_extensions` section for -x509".into())
        })?;
        Ok(MadeByReq {
            subject: self.req_subject(&req)?,
            extensions: self.extensions(section)?,
            digest: req.default_md,
        })
    }

    fn req_subject(&self, req: &ReqSettings) -> Result<Vec<(String, String)>, CnfError> {
        let section = req
            .distinguished_name
            .as_deref()
            .ok_or_else(|| self.error("`[ req ]` names no `distinguished_name` section".into()))?;
        self.subject(section, req.prompt)
    }
}

/// What `openssl req` makes from a configuration: a subject, extensions, a digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MadeByReq {
    /// The subject's `FIELD=value` pairs in order.
    pub subject: Vec<(String, String)>,
    /// The extension section's settings.
    pub extensions: ExtensionSettings,
    /// `default_md`.
    pub digest: Option<Digest>,
}

/// The CA section `[ ca ]`'s `default_ca` names (`[ CA_default ]`): what `openssl ca -config F`
/// reads. Paths are as written, `$dir` expanded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaSettings {
    /// The section's name (`CA_default`).
    pub section: String,
    /// `dir`.
    pub dir: Option<String>,
    /// `database` (`index.txt`).
    pub database: Option<String>,
    /// `serial` (the next serial, hex).
    pub serial: Option<String>,
    /// `crlnumber`.
    pub crlnumber: Option<String>,
    /// `new_certs_dir` (a copy of each certificate as `SERIAL.pem`).
    pub new_certs_dir: Option<String>,
    /// `certificate`: the CA certificate.
    pub certificate: Option<String>,
    /// `private_key`: the CA key.
    pub private_key: Option<String>,
    /// `crl`: the current CRL.
    pub crl: Option<String>,
    /// `default_days`.
    pub default_days: Option<u32>,
    /// `default_crl_days`.
    pub default_crl_days: Option<u32>,
    /// `default_md`; `None` when absent or `default`.
    pub default_md: Option<Digest>,
    /// `copy_extensions` (openssl's default: `none`).
    pub copy_extensions: CopyExtensions,
    /// `unique_subject` (openssl's default: yes).
    pub unique_subject: bool,
    /// `policy`: the policy section used when `-policy` is not given.
    pub policy: Option<String>,
    /// `x509_extensions`: the extension section used when `-extensions` is not given.
    pub x509_extensions: Option<String>,
}

/// What one `openssl ca -config F [-policy P] [-extensions E]` applies to a request, in
/// pkirun's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningSettings {
    /// `default_days`.
    pub days: Option<u32>,
    /// `default_md`.
    pub digest: Option<Digest>,
    /// `copy_extensions`.
    pub copy_extensions: CopyExtensions,
    /// The policy section's rules, in its order.
    pub policy: Vec<(String, PolicyRule)>,
    /// The extension section.
    pub extensions: ExtensionSettings,
}

impl Cnf {
    /// The CA section: `[ ca ]`'s `default_ca`, or `name` (`openssl ca -name`).
    ///
    /// # Errors
    /// No such section; a name `openssl ca` does not read; `preserve = yes` or
    /// `email_in_dn = no` (subjects pkirun does not reproduce); `default_startdate` /
    /// `default_enddate` / `rand_serial` handled differently; a value that does not parse.
    pub fn ca(&self, name: Option<&str>) -> Result<CaSettings, CnfError> {
        let section = match name {
            Some(n) => n.to_string(),
            None => self
                .get("ca", "default_ca")
                .ok_or_else(|| self.error("no `default_ca` in `[ ca ]`".into()))?
                .value
                .trim()
                .to_string(),
        };
        let values = self
            .section(&section)
            .ok_or_else(|| self.error(format!("no CA section `[ {section} ]`")))?;
        let mut out = CaSettings {
            section: section.clone(),
            copy_extensions: CopyExtensions::None,
            unique_subject: true,
            ..CaSettings::default()
        };
        for v in values {
            let value = v.value.trim().to_string();
            match v.name.as_str() {
                "dir" => out.dir = Some(value),
                "database" => out.database = Some(value),
                "serial" => out.serial = Some(value),
                "crlnumber" => out.crlnumber = Some(value),
                "new_certs_dir" => out.new_certs_dir = Some(value),
                "certificate" => out.certificate = Some(value),
                "private_key" => out.private_key = Some(value),
                "crl" => out.crl = Some(value),
                "default_days" => out.default_days = Some(days(v)?),
                "default_crl_days" => out.default_crl_days = Some(days(v)?),
                "default_md" => out.default_md = digest(v)?,
                "copy_extensions" => {
                    out.copy_extensions =
                        CopyExtensions::parse(&value).map_err(|e| v.error(e.to_string()))?;
                }
                "unique_subject" => out.unique_subject = yes_no(v)?,
                "policy" => out.policy = Some(value),
                "x509_extensions" => out.x509_extensions = Some(value),
                "preserve" if !yes_no(v)? => {}
                "preserve" => {
                    return Err(
                        v.error("pkirun orders the subject as the policy does (preserve = no)")
                    );
                }
                "email_in_dn" if yes_no(v)? => {}
                "email_in_dn" => {
                    return Err(v.error(
                        "pkirun keeps an emailAddress the policy allows (email_in_dn = yes); \
                         leave it out of the policy instead",
                    ));
                }
                "crl_extensions" => {
                    // pkirun's CRLs carry the authorityKeyIdentifier (keyid) and the CRL number.
                    let section = self
                        .section(&value)
                        .ok_or_else(|| v.error(format!("no section `[ {value} ]`")))?;
                    if let Some(other) = section.iter().find(|e| {
                        e.name != "authorityKeyIdentifier" || !e.value.trim().starts_with("keyid")
                    }) {
                        return Err(other.error(
                            "pkirun's CRLs carry authorityKeyIdentifier = keyid and a CRL number, \
                             nothing else",
                        ));
                    }
                }
                "default_startdate" | "default_enddate" | "rand_serial" | "default_crl_hours" => {
                    return Err(v.error("not read by pkirun yet; remove the line"));
                }
                // Where openssl keeps files and how it prints: no effect on a certificate.
                "certs" | "crl_dir" | "RANDFILE" | "name_opt" | "cert_opt" | "msie_hack"
                | "oid_file" | "oid_section" => {}
                other => {
                    return Err(v.error(format!("`openssl ca` reads no `{other}`")));
                }
            }
        }
        Ok(out)
    }

    /// A policy section (`organizationName = supplied`), in its order.
    ///
    /// # Errors
    /// No such section, or a rule other than `supplied`, `optional` or `match`.
    pub fn policy(&self, section: &str) -> Result<Vec<(String, PolicyRule)>, CnfError> {
        let values = self
            .section(section)
            .ok_or_else(|| self.error(format!("no policy section `[ {section} ]`")))?;
        values
            .iter()
            .map(|v| {
                let field = crate::pki::short_name(&v.name).ok_or_else(|| {
                    v.error("not a subject field pkirun knows (openssl ca refuses it too)")
                })?;
                let rule =
                    PolicyRule::parse(&v.name, &v.value).map_err(|e| v.error(e.to_string()))?;
                Ok((field.to_string(), rule))
            })
            .collect()
    }

    /// What `openssl ca -config F -policy POLICY -extensions EXTENSIONS` applies (either
    /// `None`: the CA section's `policy` / `x509_extensions`).
    ///
    /// # Errors
    /// As [`Cnf::ca`], [`Cnf::policy`] and [`Cnf::extensions`]; no policy; no extension section
    /// (openssl would write a version 1 certificate); a `subjectAltName` in the extension
    /// section (pkirun takes names from the request).
    pub fn signing(
        &self,
        ca: Option<&str>,
        policy: Option<&str>,
        extensions: Option<&str>,
    ) -> Result<SigningSettings, CnfError> {
        let settings = self.ca(ca)?;
        let policy = policy
            .map(str::to_string)
            .or(settings.policy)
            .ok_or_else(|| {
                self.error(format!(
                    "`[ {} ]` names no `policy` and none was given (-policy)",
                    settings.section
                ))
            })?;
        let section = extensions
            .map(str::to_string)
            .or(settings.x509_extensions)
            .ok_or_else(|| {
                self.error(format!(
                    "`[ {} ]` names no `x509_extensions` and none was given (-extensions): \
                     openssl ca would write a version 1 certificate",
                    settings.section
                ))
            })?;
        let extensions = self.extensions(&section)?;
        if extensions.subject_alt_name.is_some()
            && let Some(v) = self.get_in(&section, "subjectAltName")
        {
            return Err(v.error(
                "pkirun signs the names the request carries; put subjectAltName in the \
                 request's section (req_extensions)",
            ));
        }
        Ok(SigningSettings {
            days: settings.default_days,
            digest: settings.default_md,
            copy_extensions: settings.copy_extensions,
            policy: self.policy(&policy)?,
            extensions,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::cnf::CnfSource;
    use super::*;

    /// Text only: no includes, no environment.
    struct NoFiles;

    impl CnfSource for NoFiles {
        fn read(&self, path: &str) -> Result<Vec<u8>, String> {
            Err(format!("{path}: no files in this test"))
        }
        fn list(&self, _: &str) -> Option<Vec<String>> {
            None
        }
        fn env(&self, _: &str) -> Option<String> {
            None
        }
    }

    fn cnf(text: &str) -> Cnf {
        Cnf::parse(text, "t.cnf", &NoFiles).unwrap()
    }

    const CA: &str = "[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = ./demoCA\n\
        database = $dir/index.txt\ndefault_days = 90\ndefault_md = sha256\npolicy = pol\n\
        x509_extensions = usr\ncopy_extensions = copy\nunique_subject = no\n\
        [ pol ]\norganizationName = match\ncommonName = supplied\n\
        [ usr ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = clientAuth\n";

    #[test]
    fn the_ca_section_gives_paths_defaults_and_the_signing_settings() {
        let c = cnf(CA);
        let ca = c.ca(None).unwrap();
        assert_eq!(ca.section, "CA_default");
        assert_eq!(ca.database.as_deref(), Some("./demoCA/index.txt"));
        assert!(!ca.unique_subject);
        let s = c.signing(None, None, None).unwrap();
        assert_eq!(s.days, Some(90));
        assert_eq!(s.digest, Some(Digest::Sha256));
        assert_eq!(s.copy_extensions, CopyExtensions::Copy);
        assert_eq!(
            s.policy,
            vec![
                ("O".to_string(), PolicyRule::Match),
                ("CN".to_string(), PolicyRule::Supplied)
            ]
        );
        assert_eq!(s.extensions.ext_key_usage, Some(vec!["clientAuth".into()]));
        // openssl's defaults where the section is silent.
        let bare = cnf("[ ca ]\ndefault_ca = x\n[ x ]\n");
        let ca = bare.ca(None).unwrap();
        assert!(ca.unique_subject);
        assert_eq!(ca.copy_extensions, CopyExtensions::None);
    }

    #[test]
    fn what_would_change_a_certificate_unseen_is_refused_with_its_line() {
        for (line, want) in [
            (
                "preserve = yes",
                "`t.cnf` line 12: `preserve`: pkirun orders the subject",
            ),
            (
                "email_in_dn = no",
                "`t.cnf` line 12: `email_in_dn`: pkirun keeps an emailAddress",
            ),
            (
                "default_enddate = 20300101000000Z",
                "line 12: `default_enddate`: not read by pkirun yet",
            ),
            (
                "defualt_days = 10",
                "line 12: `defualt_days`: `openssl ca` reads no `defualt_days`",
            ),
            (
                "default_md = md5",
                "line 12: `default_md`: `md5`: pkirun signs with sha256",
            ),
        ] {
            let text = CA.replacen("[ pol ]", &format!("{line}\n[ pol ]"), 1);
            let err = cnf(&text)
                .signing(None, None, None)
                .unwrap_err()
                .to_string();
            assert!(err.contains(want), "{line}: {err}");
        }
        let err = cnf(&CA.replace("commonName = supplied", "title = supplied"))
            .signing(None, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 14: `title`: not a subject field"),
            "{err}"
        );
        let err = cnf(&CA.replace("x509_extensions = usr\n", ""))
            .signing(None, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("openssl ca would write a version 1 certificate"),
            "{err}"
        );
        let err = cnf(&format!("{CA}subjectAltName = DNS:x.test\n"))
            .signing(None, None, None)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("pkirun signs the names the request carries"),
            "{err}"
        );
    }

    #[test]
    fn req_reads_prompted_and_fixed_subjects_and_refuses_attributes_and_other_masks() {
        let prompted = cnf("[ req ]\ndistinguished_name = dn\nx509_extensions = v3\n\
            [ dn ]\ncommonName = Common Name\ncommonName_default = ca.test\ncommonName_max = 64\n\
            [ v3 ]\nbasicConstraints = critical,CA:true\n");
        let made = prompted.self_signed().unwrap();
        assert_eq!(made.subject, vec![("commonName".into(), "ca.test".into())]);
        assert_eq!(
            made.extensions.basic_constraints.as_deref(),
            Some("critical,CA:true")
        );
        let err = cnf(
            "[ req ]\nprompt = no\ndistinguished_name = dn\nattributes = at\n\
            [ dn ]\nCN = x\n[ at ]\nchallengePassword = secret\n",
        )
        .request()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 8: `challengePassword`: pkirun's requests carry no attributes"),
            "{err}"
        );
        let err = cnf("[ req ]\nstring_mask = default\n")
            .req()
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("line 2: `string_mask`: `default` encodes names as PrintableString"),
            "{err}"
        );
        let err = cnf(
            "[ req ]\nprompt = no\ndistinguished_name = dn\nreq_extensions = e\n\
            [ dn ]\nCN = x\n[ e ]\nsubjectKeyIdentifier = hash\n",
        )
        .request()
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("line 8: `subjectKeyIdentifier`: pkirun's requests do not carry it"),
            "{err}"
        );
    }
}
