//! PEM blocks in and out (several blocks per file, as openssl writes them).

use super::error::{Error, Result};

/// One decoded PEM block.
#[derive(Debug, Clone)]
pub struct PemBlock {
    /// The label between `BEGIN` and the dashes, e.g. `CERTIFICATE`.
    pub label: String,
    /// The decoded DER contents.
    pub der: Vec<u8>,
}

impl PemBlock {
    /// The labels of `blocks`, comma separated, or `none`.
    #[must_use]
    pub fn labels(blocks: &[PemBlock]) -> String {
        if blocks.is_empty() {
            "none".into()
        } else {
            blocks
                .iter()
                .map(|b| b.label.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        }
    }
}

/// Parses every PEM block in `text`. Text outside blocks (comments, `openssl x509 -text`
/// output before the block) is ignored; a block that starts but is broken is an error.
///
/// # Errors
/// Non-UTF-8 input, a block without its END line, or bad base64 inside a block.
pub fn parse_blocks(text: &[u8]) -> Result<Vec<PemBlock>> {
    let text = std::str::from_utf8(text)
        .map_err(|_| Error::Pem("input is not text (is it DER? convert with openssl)".into()))?;
    let blocks = pem::parse_many(text).map_err(|e| match e {
        pem::PemError::InvalidData(_) => {
            Error::Pem("bad base64 inside a block (the file is damaged)".into())
        }
        other => Error::Pem(other.to_string()),
    })?;
    // `parse_many` skips a block whose END line is missing; a cut-off file must not pass.
    let begins = text
        .lines()
        .filter(|l| l.trim_start().starts_with("-----BEGIN "))
        .count();
    if begins > blocks.len() {
        return Err(Error::Pem(
            "a BEGIN line has no matching END line (truncated file?)".into(),
        ));
    }
    Ok(blocks
        .into_iter()
        .map(|p| PemBlock {
            label: p.tag().to_string(),
            der: p.into_contents(),
        })
        .collect())
}

/// Returns the DER of the first block labelled `label`.
///
/// # Errors
/// Malformed PEM or no block with that label.
pub fn first_block(text: &[u8], label: &'static str, expected: &'static str) -> Result<Vec<u8>> {
    let blocks = parse_blocks(text)?;
    let found = PemBlock::labels(&blocks);
    blocks
        .into_iter()
        .find(|b| b.label == label)
        .map(|b| b.der)
        .ok_or(Error::NoPemBlock { expected, found })
}

/// Encodes DER as a PEM block with 64-column lines and LF endings, like openssl.
#[must_use]
pub fn encode(label: &str, der: &[u8]) -> String {
    let block = pem::Pem::new(label, der.to_vec());
    pem::encode_config(
        &block,
        pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
    )
}
