//! Values: join arrays into text, and JSON text in and out.

use std::sync::Arc;

use rhai::{Array, Dynamic, Engine};

use super::FnResult;
use crate::script::{Ctx, rt};

/// Registers `join`, `pretty_json` and `parse_json`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, _ctx: &Arc<Ctx>) {
    func!(engine, "join", ["items: Array", "separator: &str", "String"],
        "Joins the items of an array into one string: join(cert.sans, \", \").",
        join);
    func!(engine, "pretty_json", ["value: Dynamic", "String"],
        "The value as JSON indented by two spaces, maps with sorted keys (Rhai's own to_json is
        compact), e.g. a cfssl CSR document for an operator to edit.",
        pretty_json);
    func!(engine, "parse_json", ["text: &str", "Dynamic"],
        "Parses JSON text into maps, arrays, strings, numbers and booleans.",
        parse_json);
}

/// `join(items, separator)`.
fn join(items: Array, separator: &str) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(separator)
}

/// `pretty_json(value)`.
fn pretty_json(value: Dynamic) -> FnResult<String> {
    serde_json::to_string_pretty(&value).map_err(|e| rt(format!("pretty_json: {e}")))
}

/// `parse_json(text)`.
fn parse_json(text: &str) -> FnResult<Dynamic> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| rt(format!("parse_json: invalid JSON: {e}")))?;
    rhai::serde::to_dynamic(value)
}
