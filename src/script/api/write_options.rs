//! The write options scripts pass (`mode`, `overwrite`, `format`) and the one file-mode parser
//! every function that takes a mode goes through.

use rhai::Map;

use crate::pki::KeyFormat;
use crate::script::convert::{self, ConvResult};
use crate::workspace::WriteOptions;

/// The highest file mode: permission bits plus setuid, setgid and sticky.
const MAX_MODE: i64 = 0o7777;

/// Checks a file mode: 0 to 0o7777, never truncated (0o17777 is an error, not 0o7777).
///
/// # Errors
/// A negative or larger value, naming `mode`.
pub(crate) fn file_mode(mode: i64) -> ConvResult<u32> {
    match u32::try_from(mode) {
        Ok(m) if mode <= MAX_MODE => Ok(m),
        _ if mode < 0 => Err(format!(
            "`mode`: {mode} is not a file mode (use e.g. 0o400)"
        )),
        _ => Err(format!(
            "`mode`: 0o{mode:o} is not a file mode (at most 0o7777; use e.g. 0o400)"
        )),
    }
}

/// The `mode` option of `opts`, checked by [`file_mode`], or `default`.
///
/// # Errors
/// A mode that is not an integer or not a file mode.
pub(crate) fn mode_option(opts: &Map, default: u32) -> ConvResult<u32> {
    convert::opt_int(opts, "mode")?.map_or(Ok(default), file_mode)
}

/// The `overwrite` option of `opts` (default false).
///
/// # Errors
/// A value that is not a boolean.
pub(crate) fn overwrite_option(opts: &Map) -> ConvResult<bool> {
    Ok(convert::opt_bool(opts, "overwrite")?.unwrap_or(false))
}

/// Options of a text file write (`write`, `write_cert`, `copy`): `mode` (default
/// `default_mode`) and `overwrite`.
///
/// # Errors
/// An unknown option or a bad value, naming `what`'s option.
pub(crate) fn file_options(what: &str, opts: &Map, default_mode: u32) -> ConvResult<WriteOptions> {
    convert::check_keys(what, opts, &["mode", "overwrite"])?;
    Ok(WriteOptions {
        mode: Some(mode_option(opts, default_mode)?),
        overwrite: overwrite_option(opts)?,
    })
}

/// Options of a key write: `mode` (default 0o400), `format` (pkcs8, pkcs1, sec1), `overwrite`.
///
/// # Errors
/// An unknown option or a bad value.
pub(crate) fn key_options(opts: &Map) -> ConvResult<(WriteOptions, KeyFormat, bool)> {
    convert::check_keys(
        "write_key",
        opts,
        &["mode", "format", "overwrite", "encrypt"],
    )?;
    let format = key_format_option(opts)?;
    let write = WriteOptions {
        mode: Some(mode_option(opts, 0o400)?),
        overwrite: overwrite_option(opts)?,
    };
    let encrypt = convert::opt_bool(opts, "encrypt")?.unwrap_or(false);
    Ok((write, format, encrypt))
}

/// The `format` option of a key write (default PKCS#8).
///
/// # Errors
/// A format other than pkcs8, pkcs1 or sec1.
pub(crate) fn key_format_option(opts: &Map) -> ConvResult<KeyFormat> {
    match convert::opt_string(opts, "format")? {
        Some(f) => KeyFormat::parse(&f).map_err(|e| e.to_string()),
        None => Ok(KeyFormat::Pkcs8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_mode_accepts_permission_and_special_bits() {
        assert_eq!(file_mode(0).unwrap(), 0);
        assert_eq!(file_mode(0o400).unwrap(), 0o400);
        assert_eq!(file_mode(0o7777).unwrap(), 0o7777);
    }

    #[test]
    fn file_mode_refuses_what_it_would_have_to_truncate() {
        assert_eq!(
            file_mode(0o17777).unwrap_err(),
            "`mode`: 0o17777 is not a file mode (at most 0o7777; use e.g. 0o400)"
        );
        assert_eq!(
            file_mode(-1).unwrap_err(),
            "`mode`: -1 is not a file mode (use e.g. 0o400)"
        );
        assert!(file_mode(i64::from(u32::MAX) + 1).is_err());
    }

    #[test]
    fn every_writer_reads_mode_through_the_same_parser() {
        let mut opts = Map::new();
        opts.insert("mode".into(), 0o17777_i64.into());
        let expected = file_mode(0o17777).unwrap_err();
        assert_eq!(file_options("write", &opts, 0o644).unwrap_err(), expected);
        assert_eq!(key_options(&opts).unwrap_err(), expected);
        assert_eq!(mode_option(&opts, 0o400).unwrap_err(), expected);
    }
}
