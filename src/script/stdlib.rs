//! The `stdlib/*.rhai` modules, compiled into the binary and importable by name
//! (`import "profiles" as p;`); other imports resolve relative to the script's directory.

use std::path::Path;

use rhai::module_resolvers::{FileModuleResolver, ModuleResolversCollection};
use rhai::{Engine, EvalAltResult, Module, ModuleResolver, Position, Scope, Shared};

/// The embedded modules: name and source.
pub const MODULES: &[(&str, &str)] = &[
    ("profiles", include_str!("../../stdlib/profiles.rhai")),
    ("openssl", include_str!("../../stdlib/openssl.rhai")),
    ("cfssl", include_str!("../../stdlib/cfssl.rhai")),
];

/// Serves [`MODULES`] by name.
#[derive(Debug, Default, Clone, Copy)]
struct Embedded;

impl ModuleResolver for Embedded {
    fn resolve(
        &self,
        engine: &Engine,
        _source: Option<&str>,
        path: &str,
        pos: Position,
    ) -> Result<Shared<Module>, Box<EvalAltResult>> {
        let name = path.trim_start_matches("stdlib/").trim_end_matches(".rhai");
        let Some((_, src)) = MODULES.iter().find(|(n, _)| *n == name) else {
            return Err(EvalAltResult::ErrorModuleNotFound(path.to_string(), pos).into());
        };
        let mut ast = engine.compile(src).map_err(|e| {
            Box::new(EvalAltResult::ErrorInModule(
                format!("stdlib/{name}.rhai"),
                e.into(),
                pos,
            ))
        })?;
        ast.set_source(format!("stdlib/{name}.rhai"));
        let module = Module::eval_ast_as_new(Scope::new(), &ast, engine)?;
        Ok(module.into())
    }
}

/// Embedded modules first, then `.rhai` files next to the script.
#[must_use]
pub fn resolver(script_dir: Option<&Path>) -> ModuleResolversCollection {
    let mut c = ModuleResolversCollection::new();
    c.push(Embedded);
    match script_dir {
        Some(dir) if !dir.as_os_str().is_empty() => {
            c.push(FileModuleResolver::new_with_path(dir));
        }
        _ => {
            c.push(FileModuleResolver::new());
        }
    }
    c
}
