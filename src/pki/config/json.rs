//! Reading JSON documents (cfssl's requests and configurations, inventories) with errors that
//! name the field at fault, in our words: `` `hosts`: expected a list (JSON array), found the
//! string "a.example" (line 1, column 29) `` instead of serde's "invalid type: string, expected
//! a sequence".

use serde::de::DeserializeOwned;

/// A JSON document that does not have the expected shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{message} (line {line}, column {column})", field_prefix(.field))]
pub struct JsonError {
    /// The path of the field at fault (`signing.profiles.www.usages`, `names[0].C`), empty for
    /// the document itself.
    pub field: String,
    /// What is wrong, in our words.
    pub message: String,
    /// 1-based line of the error.
    pub line: usize,
    /// 1-based column of the error.
    pub column: usize,
}

fn field_prefix(field: &str) -> String {
    if field.is_empty() || field == "." {
        String::new()
    } else {
        format!("`{field}`: ")
    }
}

/// Parses `text` as a `T`, naming the field at fault when it does not fit.
///
/// # Errors
/// Not JSON, or a value of the wrong type, an unknown or missing field.
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, JsonError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let mut field = e.path().to_string();
        let inner = e.into_inner();
        if field == "?" || field == "." {
            field.clear();
        }
        // An unknown field's message names it; the path then is where it stands.
        if inner.to_string().starts_with("unknown field") {
            field = match field.rfind(['.', '[']) {
                Some(i) => field[..i].to_string(),
                None => String::new(),
            };
        }
        JsonError {
            field,
            message: in_our_words(&inner),
            line: inner.line(),
            column: inner.column(),
        }
    })?;
    de.end().map_err(|e| JsonError {
        field: String::new(),
        message: "text after the end of the JSON document".into(),
        line: e.line(),
        column: e.column(),
    })?;
    Ok(value)
}

/// serde_json's message without its position (kept apart), types named as a JSON writer knows
/// them, and "expected X, found Y" in that order.
fn in_our_words(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let text = match text.rfind(" at line ") {
        Some(i) => &text[..i],
        None => &text,
    };
    let json_words = |s: &str| {
        s.replace("a sequence", "a list (JSON array)")
            .replace("a map", "an object")
            .replace("struct ", "object ")
            .replace("string \"", "the string \"")
            .replace("integer `", "the number `")
            .replace("floating point `", "the number `")
            .replace("boolean `", "`")
    };
    let mismatch = text
        .strip_prefix("invalid type: ")
        .or_else(|| text.strip_prefix("invalid value: "))
        .and_then(|rest| rest.split_once(", expected "));
    match mismatch {
        Some((found, expected)) => {
            format!(
                "expected {}, found {}",
                json_words(expected),
                json_words(found)
            )
        }
        None => json_words(text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        hosts: Vec<String>,
        names: Vec<Name>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Name {
        #[serde(rename = "C")]
        c: String,
    }

    fn err(text: &str) -> String {
        from_str::<Doc>(text).unwrap_err().to_string()
    }

    #[test]
    fn the_field_at_fault_is_named_with_what_was_expected_and_found() {
        assert_eq!(
            err(r#"{"hosts": "a.example", "names": []}"#),
            "`hosts`: expected a list (JSON array), found the string \"a.example\" (line 1, column 21)"
        );
        assert_eq!(
            err(r#"{"hosts": [], "names": [{"C": 1}]}"#),
            "`names[0].C`: expected a string, found the number `1` (line 1, column 31)"
        );
        assert!(
            err(r#"{"hosts": [], "names": [], "extra": 1}"#)
                .starts_with("unknown field `extra`, expected `hosts` or `names`"),
            "{}",
            err(r#"{"hosts": [], "names": [], "extra": 1}"#)
        );
        assert!(
            err(r#"{"hosts": [], "names": [{"C": "DE", "X": 1}]}"#)
                .starts_with("`names[0]`: unknown field `X`, expected `C`"),
            "{}",
            err(r#"{"hosts": [], "names": [{"C": "DE", "X": 1}]}"#)
        );
        assert_eq!(
            err(r#"{"hosts": []}"#),
            "missing field `names` (line 1, column 13)"
        );
        assert!(
            err("{").starts_with("EOF while parsing an object"),
            "{}",
            err("{")
        );
        assert!(err(r#"{"hosts": [], "names": []} x"#).starts_with("text after the end"));
    }
}
