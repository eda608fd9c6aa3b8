//! The parameters a script reads, known from its text before it runs.
//!
//! Every `param("NAME", default)` call whose name is a string literal declares `NAME`, wherever
//! it stands (top level, a branch, a function body). pkirun reads them from the compiled script
//! before running it, so a `-D` name the script never reads is an error before anything is
//! written — checking after the run would be too late: a mistyped `-D hosst=...` would already
//! have made certificates with the default hosts. A `param` call whose name is computed at run
//! time cannot be checked that way and is refused when it runs.

use std::collections::BTreeMap;

use rhai::{AST, ASTNode, Expr, FnCallExpr, Stmt};

/// One parameter a script reads: its name and, when the default is a literal, that default as
/// the script wrote it (`365`, `"roach"`, `["a", "b"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// The name `-D NAME=...` sets.
    pub name: String,
    /// The literal default, if the script gives one that is a constant.
    pub default: Option<String>,
}

/// The parameters `ast` reads, by name (the first literal default wins), and whether some
/// `param` call has a name that is not a string literal.
#[must_use]
pub fn scan(ast: &AST) -> (BTreeMap<String, Declared>, bool) {
    let mut found = BTreeMap::new();
    let mut computed = false;
    ast.walk(&mut |path: &[ASTNode]| {
        let call: Option<&FnCallExpr> = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(call, _)) | ASTNode::Stmt(Stmt::FnCall(call, _))) => {
                Some(call)
            }
            _ => None,
        };
        if let Some(call) = call.filter(|c| c.name == "param" && !c.is_qualified()) {
            match call.args.first() {
                Some(Expr::StringConstant(name, _)) => {
                    let default = call
                        .args
                        .get(1)
                        .and_then(|d| d.get_literal_value(None))
                        .map(|v| literal(&v));
                    let entry = found.entry(name.to_string()).or_insert_with(|| Declared {
                        name: name.to_string(),
                        default: None,
                    });
                    if entry.default.is_none() {
                        entry.default = default;
                    }
                }
                _ => computed = true,
            }
        }
        true
    });
    (found, computed)
}

/// A literal default as a script writer would write it.
fn literal(v: &rhai::Dynamic) -> String {
    if v.is_string() {
        format!("{:?}", v.to_string())
    } else if v.is_array() {
        let items: Vec<String> = v
            .clone()
            .into_array()
            .unwrap_or_default()
            .iter()
            .map(literal)
            .collect();
        format!("[{}]", items.join(", "))
    } else if v.is_unit() {
        "()".to_string()
    } else {
        v.to_string()
    }
}

/// The names closest to `wanted` among `known` (edit distance at most 2), for a "did you mean".
#[must_use]
pub fn closest<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    known
        .into_iter()
        .map(|k| (distance(&wanted.to_lowercase(), &k.to_lowercase()), k))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance between two short strings.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let here = row[j + 1];
            row[j + 1] = if ca == *cb {
                prev
            } else {
                1 + prev.min(row[j]).min(row[j + 1])
            };
            prev = here;
        }
    }
    row[b.len()]
}

/// The comment block at the top of a script (its `//` lines up to the first other line), without
/// the comment markers: what `pkirun SCRIPT --help` shows above the parameter list.
#[must_use]
pub fn header(source: &str) -> String {
    source
        .lines()
        .skip_while(|l| l.starts_with("#!"))
        .take_while(|l| l.trim_start().starts_with("//"))
        .map(|l| {
            let text = l.trim_start().trim_start_matches("//");
            text.strip_prefix(' ').unwrap_or(text).trim_end()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(src: &str) -> (Vec<(String, Option<String>)>, bool) {
        let ast = rhai::Engine::new().compile(src).unwrap();
        let (found, computed) = scan(&ast);
        (
            found.into_values().map(|d| (d.name, d.default)).collect(),
            computed,
        )
    }

    #[test]
    fn literal_names_are_found_everywhere_with_their_literal_defaults() {
        let (found, computed) = names(
            r#"
let a = param("days", 365);
if true { print(param("hosts", ["a", "b"])); }
fn f() { param("user", "roach") }
param("nodes", "");
let x = param("expiry", ());
let y = param("computed_default", 1 + a);
"#,
        );
        assert!(!computed);
        assert_eq!(
            found,
            vec![
                ("computed_default".into(), None),
                ("days".into(), Some("365".into())),
                ("expiry".into(), Some("()".into())),
                ("hosts".into(), Some("[\"a\", \"b\"]".into())),
                ("nodes".into(), Some("\"\"".into())),
                ("user".into(), Some("\"roach\"".into())),
            ]
        );
    }

    #[test]
    fn a_computed_name_is_reported() {
        let (found, computed) = names(r#"let n = "da" + "ys"; param(n, 1);"#);
        assert!(found.is_empty());
        assert!(computed);
    }

    #[test]
    fn closest_suggests_a_near_name_only() {
        let known = ["hosts", "days", "user"];
        assert_eq!(closest("host", known), Some("hosts"));
        assert_eq!(closest("Hosts", known), Some("hosts"));
        assert_eq!(closest("certificate", known), None);
    }

    #[test]
    fn header_is_the_leading_comment_block() {
        let src = "// One\n//   two\n\nlet a = 1; // not this\n";
        assert_eq!(header(src), "One\n  two");
    }
}
