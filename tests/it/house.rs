//! The stored shape lives in the store alone: no key prefix and no key, index or entity attribute
//! name is spelled outside `shared/src/store/`. A rename there is then a compile error elsewhere,
//! not an item the code can no longer find.

use std::path::Path;

use local_stack::emulator::workspace_root;

/// Every string literal in `store/keys.rs` that ends a key segment (`"ORG#`, `"RATE#`, ...).
fn key_prefixes(keys: &str) -> Vec<String> {
    let mut prefixes: Vec<String> = keys
        .split('"')
        .skip(1)
        .step_by(2)
        .filter_map(|literal| {
            let head = literal.split('#').next()?;
            let is_prefix = literal.contains('#')
                && !head.is_empty()
                && head.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            is_prefix.then(|| format!("\"{head}#"))
        })
        .collect();
    prefixes.sort();
    prefixes.dedup();
    prefixes
}

/// Every attribute name `store/schema.rs` declares, quoted as code would spell it.
fn attribute_names(schema: &str) -> Vec<String> {
    schema
        .lines()
        .filter(|l| l.trim_start().starts_with("pub const "))
        .filter_map(|l| l.split('"').nth(1))
        .map(|name| format!("\"{name}\""))
        .collect()
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
        let path = entry.path();
        let name = entry.file_name();
        if path.is_dir() && !matches!(name.to_str(), Some("target" | "node_modules" | ".git" | ".venv")) {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn no_key_prefix_or_stored_attribute_name_is_spelled_outside_the_store() {
    let root = workspace_root();
    let store = root.join("shared/src/store");
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let prefixes = key_prefixes(&read(&store.join("keys.rs")));
    let attributes = attribute_names(&read(&store.join("schema.rs")));
    assert!(prefixes.len() >= 10, "the key prefixes were not found in keys.rs: {prefixes:?}");
    assert!(attributes.iter().any(|a| a == "\"pk\"") && attributes.iter().any(|a| a == "\"entity\""));

    let mut files = Vec::new();
    for dir in ["shared", "functions", "local", "tests", "xtask"] {
        rust_files(&root.join(dir), &mut files);
    }
    let this = Path::new(file!()).file_name().expect("a file name");
    let mut found = Vec::new();
    for file in files.iter().filter(|f| !f.starts_with(&store) && f.file_name() != Some(this)) {
        for (n, line) in read(file).lines().enumerate() {
            for spelled in prefixes.iter().chain(&attributes).filter(|s| line.contains(s.as_str())) {
                found.push(format!(
                    "{}:{}: {spelled}",
                    file.strip_prefix(&root).unwrap_or(file).display(),
                    n + 1
                ));
            }
        }
    }
    assert!(found.is_empty(), "the stored shape is spelled outside shared/src/store:\n{}", found.join("\n"));
}

#[test]
fn the_check_finds_what_it_looks_for() {
    let prefixes = key_prefixes(r#"format!("ORG#{org}") "CLUSTERS#LIVE" "{to}#{x}" "a#b""#);
    assert_eq!(prefixes, ["\"CLUSTERS#", "\"ORG#"]);
    let names = attribute_names("/// doc \"x\"\npub const PK: &str = \"pk\";\n");
    assert_eq!(names, ["\"pk\""]);
}

/// The layers point one way: the domain knows neither the store nor the HTTP edge, the store does
/// not know the HTTP edge, and the wire types speak domain types or their own, not the store's.
#[test]
fn the_layers_import_only_downwards() {
    let root = workspace_root().join("shared/src");
    // The edge's modules, by their own paths and by the root re-exports the functions use.
    let edge = [
        "crate::edge",
        "crate::http",
        "crate::contract",
        "crate::app",
        "crate::routes",
        "crate::auth",
        "crate::answer",
    ];
    let domain_may_not: Vec<&str> = edge
        .iter()
        .copied()
        .chain(["crate::store", "crate::adapters", "crate::mail", "crate::cloud", "crate::aws"])
        .collect();
    let adapters_may_not: Vec<&str> = edge.iter().copied().chain(["crate::store"]).collect();
    let forbidden = [
        ("domain", domain_may_not.as_slice()),
        ("store", edge.as_slice()),
        ("adapters", adapters_may_not.as_slice()),
        ("edge/contract", ["crate::store", "crate::app", "crate::adapters"].as_slice()),
    ];
    let mut found = Vec::new();
    for (layer, imports) in forbidden {
        let mut files = Vec::new();
        rust_files(&root.join(layer), &mut files);
        assert!(!files.is_empty(), "shared/src/{layer} has no files");
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap_or_default();
            // Code, not the doc comments that point readers to another layer.
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with("//")) {
                for import in imports.iter().filter(|i| line.contains(*i)) {
                    found.push(format!("{}:{}: {import}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "a layer reaches upwards:\n{}", found.join("\n"));
}
