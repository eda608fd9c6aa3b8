//! Files: the working directory's files and directories, written atomically, alone or as a
//! group (all or nothing).

use std::path::Path;
use std::sync::Arc;

use rhai::{Array, Dynamic, Engine, Map};

use super::FnResult;
use super::write_options::{file_mode, file_options, mode_option, overwrite_option};
use crate::script::convert;
use crate::script::{Ctx, rt};
use crate::workspace::{self, WriteOptions};

/// Registers `mkdir`, `exists`, `read`, `write`, `write_files`, `copy`, `remove`, `list` and
/// `chmod`.
#[rustfmt::skip] // one entry per function: name and signature, doc, implementation
pub(crate) fn register(engine: &mut Engine, ctx: &Arc<Ctx>) {
    func!(engine, ctx => c, "mkdir", ["path: &str", "()"],
        "Creates a directory and its parents (mkdir -p) under the working directory.",
        move |path: &str| -> FnResult<()> { c.ws.mkdir(path).map_err(rt) });
    func!(engine, ctx => c, "exists", ["path: &str", "bool"],
        "True when the file or directory exists.",
        move |path: &str| -> FnResult<bool> { c.ws.exists(path).map_err(rt) });
    func!(engine, ctx => c, "read", ["path: &str", "String"],
        "Reads a text file.",
        move |path: &str| -> FnResult<String> { c.ws.read_to_string(path).map_err(rt) });
    func!(engine, ctx => c, "write", ["path: &str", "text: &str", "()"],
        "Writes a text file (mode 0644) atomically; refuses to overwrite an existing file.",
        move |path: &str, text: &str| write_text(&c, path, text, &Map::new()));
    func!(engine, ctx => c, "write", ["path: &str", "text: &str", "opts: Map", "()"],
        "Writes a text file with options #{ mode: 0o600, overwrite: true }.",
        move |path: &str, text: &str, opts: Map| write_text(&c, path, text, &opts));
    func!(engine, ctx => c, "write_files", ["files: Array", "()"],
        "Writes text files all or nothing: [#{ path: \"certs/ca.pem\", text: pem, mode: 0o644,
        overwrite: false }, ..]. Every target is checked first (existing files are refused
        unless overwrite or --force), then directories are made and all files renamed into place.",
        move |files: Array| write_files(&c, &files));
    func!(engine, ctx => c, "copy", ["from: &str", "to: &str", "()"],
        "Copies a file atomically, keeping its mode; refuses to overwrite.",
        move |from: &str, to: &str| copy(&c, from, to, &Map::new()));
    func!(engine, ctx => c, "copy", ["from: &str", "to: &str", "opts: Map", "()"],
        "Copies a file with options #{ mode: 0o644, overwrite: true }.",
        move |from: &str, to: &str, opts: Map| copy(&c, from, to, &opts));
    func!(engine, ctx => c, "remove", ["path: &str", "()"],
        "Removes a file.",
        move |path: &str| -> FnResult<()> { c.ws.remove(path).map_err(rt) });
    func!(engine, ctx => c, "list", ["dir: &str", "Array"],
        "The entries of a directory as sorted paths relative to the working directory.",
        move |dir: &str| list(&c, dir));
    func!(engine, ctx => c, "chmod", ["path: &str", "mode: i64", "()"],
        "Sets a file's mode, e.g. chmod(\"ca.key\", 0o400).",
        move |path: &str, mode: i64| chmod(&c, path, mode));
}

/// Writes a text file with `write`'s options (`mode`, default 0644, and `overwrite`); also
/// what `write_cert` and `write_csr` do.
pub(super) fn write_text(ctx: &Ctx, path: &str, text: &str, opts: &Map) -> FnResult<()> {
    let write = file_options("write", opts, 0o644)?;
    ctx.ws.write(path, text.as_bytes(), write).map_err(rt)
}

/// `copy(from, to, opts)`: keeps the source's mode unless `mode` is given.
fn copy(ctx: &Ctx, from: &str, to: &str, opts: &Map) -> FnResult<()> {
    let mut write = file_options("copy", opts, 0o644)?;
    if !opts.contains_key("mode") {
        write.mode = None;
    }
    ctx.ws.copy(from, to, write).map_err(rt)
}

/// `list(dir)`: sorted paths relative to the working directory.
fn list(ctx: &Ctx, dir: &str) -> FnResult<Array> {
    let entries = ctx.ws.list(dir).map_err(rt)?;
    Ok(entries.into_iter().map(Dynamic::from).collect())
}

/// `chmod(path, mode)`: a mode above 0o7777 is an error, not truncated.
fn chmod(ctx: &Ctx, path: &str, mode: i64) -> FnResult<()> {
    let mode = file_mode(mode)?;
    ctx.ws.chmod(path, mode).map_err(rt)
}

/// One `write_files` entry: `#{ path, text, mode, overwrite }`.
fn file_entry(i: usize, entry: &Dynamic) -> FnResult<(String, String, WriteOptions)> {
    let what = format!("write_files: entry {i}");
    let map = entry.clone().try_cast::<Map>().ok_or_else(|| {
        rt(format!(
            "{what}: expected a map #{{ path: \"..\", text: \"..\", mode: 0o644 }}, found {}",
            entry.type_name()
        ))
    })?;
    convert::check_keys(&what, &map, &["path", "text", "mode", "overwrite"])?;
    let path = convert::opt_string(&map, "path")
        .map_err(|e| rt(format!("{what}: {e}")))?
        .ok_or_else(|| rt(format!("{what}: `path` is required")))?;
    let text = convert::opt_string(&map, "text")
        .map_err(|e| rt(format!("{what}: {e}")))?
        .ok_or_else(|| rt(format!("{what} (`{path}`): `text` is required")))?;
    let mode = mode_option(&map, 0o644).map_err(|e| rt(format!("{what} (`{path}`): {e}")))?;
    let overwrite = overwrite_option(&map)?;
    Ok((
        path,
        text,
        WriteOptions {
            mode: Some(mode),
            overwrite,
        },
    ))
}

/// `write_files(files)`: every target checked first (existing files refused unless
/// `overwrite` or `--force`), then directories made and all files renamed into place.
pub(super) fn write_files(ctx: &Ctx, files: &Array) -> FnResult<()> {
    let mut parsed: Vec<(String, String, WriteOptions)> = Vec::with_capacity(files.len());
    for (i, entry) in files.iter().enumerate() {
        let file = file_entry(i, entry)?;
        if parsed.iter().any(|(p, _, _)| *p == file.0) {
            return Err(rt(format!("write_files: `{}` is listed twice", file.0)));
        }
        parsed.push(file);
    }
    // Refuse before creating any directory, so a refused group leaves nothing behind.
    for (path, _, w) in &parsed {
        if !w.overwrite && !ctx.ws.force() && ctx.ws.exists(path).map_err(rt)? {
            return Err(rt(workspace::Error::Exists { path: path.clone() }));
        }
    }
    for (path, _, _) in &parsed {
        if let Some(parent) = Path::new(path).parent() {
            let parent = parent.to_string_lossy();
            if !parent.is_empty() {
                ctx.ws.mkdir(&parent).map_err(rt)?;
            }
        }
    }
    let group: Vec<(&str, &[u8], WriteOptions)> = parsed
        .iter()
        .map(|(p, t, w)| (p.as_str(), t.as_bytes(), *w))
        .collect();
    ctx.ws.write_all_or_nothing(&group).map_err(rt)
}
