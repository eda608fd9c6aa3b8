//! Where a CA keeps its records: the issuance database (`index.txt` and its `.attr`), the
//! `serial` and `crlnumber` files, the copies of what it signed (`new_certs_dir`), its
//! certificate and key. Three layouts: pkirun's own (`ca.use_database(dir)`: everything in one
//! directory), an `openssl ca` directory as its configuration describes it, and easy-rsa 3's
//! `pki/`. Paths are as openssl resolves them: relative to the directory the run works in.

use super::config::cnf_commands::CaSettings;

/// Which tool laid the directory out, and so how it numbers certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// pkirun's `use_database(dir)`: random serials, no copies.
    Plain,
    /// `openssl ca`: the next serial of the `serial` file, a copy `SERIAL.pem` in
    /// `new_certs_dir`.
    OpensslCa,
    /// easy-rsa 3: random serials (its `EASYRSA_RAND_SN` default), a copy in
    /// `pki/certs_by_serial/`.
    EasyRsa,
}

/// The files of a CA's records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaDir {
    /// The layout.
    pub layout: Layout,
    /// The CA certificate, when the layout names it.
    pub certificate: Option<String>,
    /// The CA key, when the layout names it.
    pub private_key: Option<String>,
    /// `index.txt`.
    pub database: String,
    /// `index.txt.attr` (openssl's name: the database's name with `.attr`).
    pub attr: String,
    /// The next serial (hex).
    pub serial: String,
    /// The next CRL number (hex).
    pub crlnumber: Option<String>,
    /// Where a copy of each certificate goes as `SERIAL.pem`.
    pub new_certs_dir: Option<String>,
    /// The configuration's `unique_subject`, which `index.txt.attr` overrides when it says
    /// otherwise (as `openssl ca` reads them); `None`: the database's own default.
    pub unique_subject: Option<bool>,
}

impl CaDir {
    /// pkirun's own layout: `DIR/index.txt`, `DIR/index.txt.attr`, `DIR/serial`,
    /// `DIR/crlnumber`.
    #[must_use]
    pub fn plain(dir: &str) -> CaDir {
        let dir = dir.trim_end_matches('/');
        CaDir {
            layout: Layout::Plain,
            certificate: None,
            private_key: None,
            database: format!("{dir}/index.txt"),
            attr: format!("{dir}/index.txt.attr"),
            serial: format!("{dir}/serial"),
            crlnumber: Some(format!("{dir}/crlnumber")),
            new_certs_dir: None,
            unique_subject: None,
        }
    }

    /// An `openssl ca` directory as its CA section describes it.
    ///
    /// # Errors
    /// A setting `openssl ca` needs to sign that the section lacks (`database`, `serial`,
    /// `certificate`, `private_key`, `new_certs_dir`), named with the section.
    pub fn openssl(settings: &CaSettings) -> Result<CaDir, String> {
        let need = |value: &Option<String>, name: &str| {
            value.clone().ok_or_else(|| {
                format!(
                    "[ {} ] names no `{name}`, which openssl ca needs to sign",
                    settings.section
                )
            })
        };
        let database = need(&settings.database, "database")?;
        Ok(CaDir {
            layout: Layout::OpensslCa,
            certificate: Some(need(&settings.certificate, "certificate")?),
            private_key: Some(need(&settings.private_key, "private_key")?),
            attr: format!("{database}.attr"),
            database,
            serial: need(&settings.serial, "serial")?,
            crlnumber: settings.crlnumber.clone(),
            new_certs_dir: Some(need(&settings.new_certs_dir, "new_certs_dir")?),
            unique_subject: Some(settings.unique_subject),
        })
    }

    /// easy-rsa 3's `pki/`: `ca.crt`, `private/ca.key`, `index.txt`, `serial`, `crlnumber`,
    /// `certs_by_serial/`.
    #[must_use]
    pub fn easyrsa(pki: &str) -> CaDir {
        let pki = pki.trim_end_matches('/');
        CaDir {
            layout: Layout::EasyRsa,
            certificate: Some(format!("{pki}/ca.crt")),
            private_key: Some(format!("{pki}/private/ca.key")),
            database: format!("{pki}/index.txt"),
            attr: format!("{pki}/index.txt.attr"),
            serial: format!("{pki}/serial"),
            crlnumber: Some(format!("{pki}/crlnumber")),
            new_certs_dir: Some(format!("{pki}/certs_by_serial")),
            unique_subject: None,
        }
    }

    /// Where the copy of the certificate with `serial_hex` (openssl's spelling: upper case, an
    /// even number of digits) goes, when the layout keeps copies.
    #[must_use]
    pub fn copy_path(&self, serial_hex: &str) -> Option<String> {
        self.new_certs_dir
            .as_ref()
            .map(|dir| format!("{}/{serial_hex}.pem", dir.trim_end_matches('/')))
    }

    /// Whether certificates take the next serial of the `serial` file (openssl ca), rather
    /// than a random one.
    #[must_use]
    pub fn numbers_in_sequence(&self) -> bool {
        self.layout == Layout::OpensslCa
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_name_the_files_each_tool_uses() {
        let p = CaDir::plain("ca/");
        assert_eq!(p.database, "ca/index.txt");
        assert_eq!(p.copy_path("01"), None);
        let e = CaDir::easyrsa("pki");
        assert_eq!(e.private_key.as_deref(), Some("pki/private/ca.key"));
        assert_eq!(
            e.copy_path("0A1B").as_deref(),
            Some("pki/certs_by_serial/0A1B.pem")
        );
        assert!(!e.numbers_in_sequence());
        let settings = CaSettings {
            section: "CA_default".into(),
            database: Some("./db/index.txt".into()),
            serial: Some("./db/serial".into()),
            certificate: Some("./ca.crt".into()),
            private_key: Some("./ca.key".into()),
            ..CaSettings::default()
        };
        assert_eq!(
            CaDir::openssl(&settings).unwrap_err(),
            "[ CA_default ] names no `new_certs_dir`, which openssl ca needs to sign"
        );
        let o = CaDir::openssl(&CaSettings {
            new_certs_dir: Some("./newcerts".into()),
            ..settings
        })
        .unwrap();
        assert_eq!(o.attr, "./db/index.txt.attr");
        assert!(o.numbers_in_sequence());
    }
}
