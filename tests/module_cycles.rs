//! The house is one-way: no circle of imports between the crate's top-level modules, nor
//! between the files of one folder (ARCHITECTURE.md, "Code map"). Read from the source text —
//! every `crate::` and `super::` path outside comments and unit tests — so it needs no tool
//! that understands Rust better than the compiler already made sure of. `ops/test.sh` runs it
//! as its own step; a circle fails it with the files that make it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A source file: its module path (`["store", "daily"]`; a folder's `mod.rs` is the folder).
struct File {
    path: PathBuf,
    module: Vec<String>,
    /// Module paths it names, resolved to `crate`-relative segments.
    uses: Vec<Vec<String>>,
}

fn files(dir: &Path, root: &Path, out: &mut Vec<File>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(&path, root, out);
            continue;
        }
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let relative = path.strip_prefix(root).unwrap();
        let mut module: Vec<String> = relative
            .with_extension("")
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        if relative == Path::new("main.rs") {
            // The binary reaches the library as `kpr_bridge::`, never as `crate::`.
            continue;
        }
        let text = code_of(&std::fs::read_to_string(&path).unwrap());
        let uses = paths_in(&text, &module);
        out.push(File {
            path: relative.to_path_buf(),
            module,
            uses,
        });
    }
}

/// The text without comments, string literals and the unit tests at the end of a file.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            // A character literal ('"', '\'', '\n'), not a lifetime.
            '\'' if {
                let ahead: Vec<char> = chars.clone().take(3).collect();
                matches!(ahead.as_slice(), ['\\', _, '\''] | [_, '\'', ..])
            } =>
            {
                let ahead: Vec<char> = chars.clone().take(3).collect();
                let length = if ahead[0] == '\\' { 3 } else { 2 };
                for _ in 0..length {
                    chars.next();
                }
                out.push_str("' '");
            }
            '"' if raw_hashes(&out).is_some() => {
                let closing = format!("\"{}", "#".repeat(raw_hashes(&out).unwrap_or(0)));
                let rest: String = chars.clone().collect();
                let end = rest
                    .find(&closing)
                    .map_or(rest.len(), |at| at + closing.len());
                for _ in rest[..end].chars() {
                    chars.next();
                }
                out.push_str("\"\"");
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            _ => out.push(c),
        }
    }
    out
}

/// Before a raw string's quote: the number of `#` after its `r`.
fn raw_hashes(before: &str) -> Option<usize> {
    let hashes = before.len() - before.trim_end_matches('#').len();
    let start = &before[..before.len() - hashes];
    let prefix_ok = start.ends_with('r')
        && !start[..start.len() - 1].ends_with(|c: char| c.is_alphanumeric() || c == '_');
    prefix_ok.then_some(hashes)
}

/// Every path beginning with `crate::` or `super::` in `text`, groups (`{a, b::c}`) spread out,
/// resolved against the file's own module.
fn paths_in(text: &str, module: &[String]) -> Vec<Vec<String>> {
    let mut found = Vec::new();
    let bytes = text.as_bytes();
    let mut at = 0;
    while at < bytes.len() {
        let rest = &text[at..];
        let starts = ["crate::", "super::"].iter().any(|p| rest.starts_with(p))
            && (at == 0 || !is_ident(bytes[at - 1] as char) && bytes[at - 1] != b':');
        if !starts {
            at += rest.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        let (tree, used) = use_tree(rest);
        for path in tree {
            if let Some(resolved) = resolve(&path, module) {
                found.push(resolved);
            }
        }
        at += used.max(1);
    }
    found
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads `a::b::{c, d::e}` from the start of `text`: the paths it names and the bytes read.
fn use_tree(text: &str) -> (Vec<Vec<String>>, usize) {
    let mut prefix = Vec::new();
    let mut at = 0;
    loop {
        let ident: String = text[at..].chars().take_while(|c| is_ident(*c)).collect();
        if ident.is_empty() {
            break;
        }
        at += ident.len();
        prefix.push(ident);
        let rest = &text[at..];
        if rest.starts_with("::{") {
            at += 3;
            let mut paths = Vec::new();
            loop {
                let skipped = text[at..].len() - text[at..].trim_start().len();
                at += skipped;
                if text[at..].starts_with('}') {
                    at += 1;
                    break;
                }
                let (inner, used) = use_tree(&text[at..]);
                at += used;
                for path in inner {
                    paths.push(prefix.iter().cloned().chain(path).collect());
                }
                let skipped = text[at..].len() - text[at..].trim_start().len();
                at += skipped;
                if text[at..].starts_with(',') {
                    at += 1;
                } else if text[at..].starts_with('}') {
                    at += 1;
                    break;
                } else if used == 0 {
                    // `self`, `*` or `as name`: skip to the next item.
                    let next = text[at..].find([',', '}']).unwrap_or(text.len() - at);
                    at += next;
                }
            }
            if paths.is_empty() {
                paths.push(prefix);
            }
            return (paths, at);
        }
        if rest.starts_with("::") && rest[2..].starts_with(|c: char| is_ident(c)) {
            at += 2;
            continue;
        }
        break;
    }
    let paths = if prefix.is_empty() {
        Vec::new()
    } else {
        vec![prefix]
    };
    (paths, at)
}

/// `crate::a::b` → `[a, b]`; `super::x` from `a::b` (or from `a/c/mod.rs`) → `[a, x]`.
fn resolve(path: &[String], module: &[String]) -> Option<Vec<String>> {
    let mut segments = path.iter();
    let mut base: Vec<String> = match segments.next()?.as_str() {
        "crate" => Vec::new(),
        "super" => {
            let mut base = module.to_vec();
            base.pop()?;
            base
        }
        _ => return None,
    };
    for segment in segments {
        match segment.as_str() {
            "super" => {
                base.pop()?;
            }
            "self" => {}
            _ => base.push(segment.clone()),
        }
    }
    Some(base)
}

/// The circles of `edges` (Tarjan's strongly connected components of more than one node).
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'a>(walk: &mut Walk<'a>, node: &'a str) {
        let n = walk.index.len();
        walk.index.insert(node, n);
        walk.low.insert(node, n);
        walk.stack.push(node);
        walk.on_stack.insert(node);
        for next in walk.edges.get(node).into_iter().flatten() {
            let next = next.as_str();
            if !walk.index.contains_key(next) {
                visit(walk, next);
                let low = walk.low[node].min(walk.low[next]);
                walk.low.insert(node, low);
            } else if walk.on_stack.contains(next) {
                let low = walk.low[node].min(walk.index[next]);
                walk.low.insert(node, low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut component = Vec::new();
            while let Some(top) = walk.stack.pop() {
                walk.on_stack.remove(top);
                component.push(top.to_string());
                if top == node {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                walk.found.push(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in edges.keys() {
        if !walk.index.contains_key(node.as_str()) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

/// A graph's edges (module → the modules it names), and why each is there.
type Graph = (BTreeMap<String, BTreeSet<String>>, Vec<String>);

/// The graphs to keep acyclic: the top-level modules, and the files of each folder (its
/// `mod.rs` apart: a folder's own items are what its files share).
fn graphs(files: &[File]) -> BTreeMap<String, Graph> {
    let modules: BTreeSet<&[String]> = files.iter().map(|f| f.module.as_slice()).collect();
    let mut graphs: BTreeMap<String, Graph> = BTreeMap::new();
    for file in files {
        let Some(top) = file.module.first() else {
            continue;
        };
        for used in &file.uses {
            // The longest module the path names (the rest are items).
            let Some(target) = (1..=used.len())
                .rev()
                .map(|n| &used[..n])
                .find(|m| modules.contains(m))
            else {
                continue;
            };
            let why = format!("{} names crate::{}", file.path.display(), used.join("::"));
            if target[0] != *top {
                let (edges, reasons) = graphs.entry("crate".into()).or_default();
                if edges
                    .entry(top.clone())
                    .or_default()
                    .insert(target[0].clone())
                {
                    reasons.push(format!("{top} → {}: {why}", target[0]));
                }
                continue;
            }
            // Within each folder the file is in, however deep: the file counts as the entry of
            // that folder it lies under (itself, or the subfolder holding it).
            for depth in 1..file.module.len() {
                let folder = &file.module[..depth];
                if target.len() <= depth || !target.starts_with(folder) {
                    continue;
                }
                let from = &file.module[depth];
                let to = &target[depth];
                if from == to {
                    continue;
                }
                let (edges, reasons) = graphs.entry(folder.join("/")).or_default();
                if edges.entry(from.clone()).or_default().insert(to.clone()) {
                    reasons.push(format!("{from} → {to}: {why}"));
                }
            }
        }
    }
    graphs
}

fn cycles_in(src: &Path) -> Vec<String> {
    let mut all = Vec::new();
    files(src, src, &mut all);
    let mut report = Vec::new();
    for (graph, (edges, reasons)) in graphs(&all) {
        for circle in circles(&edges) {
            let members: BTreeSet<&String> = circle.iter().collect();
            let mut text = format!("a circle in {graph}: {}", circle.join(" ↔ "));
            for reason in &reasons {
                let (pair, _) = reason.split_once(':').unwrap();
                let (from, to) = pair.split_once(" → ").unwrap();
                if members.contains(&from.to_string()) && members.contains(&to.to_string()) {
                    text.push_str("\n    ");
                    text.push_str(reason);
                }
            }
            report.push(text);
        }
    }
    report
}

#[test]
fn the_modules_import_one_way() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let report = cycles_in(&src);
    assert!(
        report.is_empty(),
        "imports must follow the data flow down (ARCHITECTURE.md); move what both sides share to its own home lower down:\n{}",
        report.join("\n")
    );
}

/// The checker finds a circle it is shown, through `use` groups and `super::`, and not one in
/// comments or unit tests.
#[test]
fn the_check_sees_a_circle() {
    let dir = std::env::temp_dir().join(format!("kpr-module-cycles-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::create_dir_all(dir.join("b")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    write("lib.rs", "pub mod a;\npub mod b;\n");
    write("a/mod.rs", "pub mod x;\npub mod y;\n");
    write("a/x.rs", "use super::{y::Thing, *};\n");
    write("a/y.rs", "// crate::b::z\nfn f() { crate::a::x::g(); }\n");
    write(
        "b/mod.rs",
        "pub mod z;\n#[cfg(test)]\nmod tests {\n use crate::a::x;\n}\n",
    );
    write("b/z.rs", "use crate::{a::{y, x::Other}};\n");
    let report = cycles_in(&dir);
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(report[0].starts_with("a circle in a: x ↔ y"), "{report:?}");
    std::fs::create_dir_all(dir.join("a/x")).unwrap();
    std::fs::rename(dir.join("a/x.rs"), dir.join("a/x/mod.rs")).unwrap();
    write("a/x/deep.rs", "use crate::a::y::Thing;\n");
    write("a/x/mod.rs", "pub mod deep;\n");
    let report = cycles_in(&dir);
    assert_eq!(
        report.len(),
        1,
        "a file in a subfolder counts for it: {report:?}"
    );
    assert!(report[0].starts_with("a circle in a: x ↔ y"), "{report:?}");
    write("a/x/deep.rs", "\n");
    write("a/y.rs", "use crate::b::z::Item;\n");
    let report = cycles_in(&dir);
    assert_eq!(report.len(), 1, "{report:?}");
    assert!(
        report[0].starts_with("a circle in crate: a ↔ b"),
        "{report:?}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
