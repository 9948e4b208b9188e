//! The import rules of `ARCHITECTURE.md`, checked on the source: the adapters (`web`, `api`, `cli`) sit on
//! top, so nothing else names them, and the two HTTP adapters do not name each other. Reads every `.rs` file
//! under `src/`, ignoring comments and `#[cfg(test)]` parts, and fails with each offending file and line.

use std::path::{Path, PathBuf};

/// The adapters: only `lib.rs`, `main.rs` and the adapters themselves may import them.
const ADAPTERS: [&str; 3] = ["web", "api", "cli"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src is readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The room a file belongs to: its first path component under `src/` (`web`, `config`, `lib`).
fn room(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("under src");
    let first = rel.components().next().expect("a component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_owned()
}

/// `(line number, room named)` for each `crate::<room>` outside comments, before any `#[cfg(test)]`.
fn imports(text: &str) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("#[cfg(test)]") {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let name = |s: &str| -> String {
                s.trim_start()
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            match rest.strip_prefix('{') {
                // `use crate::{web, api::x};`
                Some(group) => {
                    let group = group.split('}').next().unwrap_or("");
                    found.extend(group.split(',').map(|part| (n + 1, name(part))));
                }
                None => found.push((n + 1, name(rest))),
            }
        }
    }
    found
}

/// Every violation of the rules, as `file:line: text`.
fn violations() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut out = Vec::new();
    for file in &files {
        let from = room(&src, file);
        if matches!(from.as_str(), "lib" | "main" | "import_rules") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable");
        for (line, to) in imports(&text) {
            let to_adapter = ADAPTERS.contains(&to.as_str());
            let from_adapter = ADAPTERS.contains(&from.as_str());
            let upward = to_adapter && !from_adapter;
            let sideways = to_adapter && from_adapter && to != from && from != "cli";
            if upward || sideways {
                out.push(format!(
                    "{}:{line}: `{from}` imports `crate::{to}`",
                    file.strip_prefix(&src).unwrap().display()
                ));
            }
        }
    }
    out
}

#[test]
fn nothing_below_the_adapters_imports_them() {
    let found = violations();
    assert!(
        found.is_empty(),
        "imports that point up or sideways (see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_scanner_sees_imports_and_skips_comments_and_tests() {
    let text = "use crate::web::csrf;\n// crate::api in a comment\nlet x = crate::cli::run(); // crate::api\nuse crate::{config, api::x};\n#[cfg(test)]\nuse crate::api::x;\n";
    let found = imports(text);
    let names: Vec<(usize, &str)> = found.iter().map(|(n, s)| (*n, s.as_str())).collect();
    assert_eq!(
        names,
        vec![(1, "web"), (3, "cli"), (4, "config"), (4, "api")]
    );
}

/// Words that belong to one engine (ECK's names, kinds and status fields). `operations/` and `clusters/`
/// reach engines only through `k8s::engine`, so none of them appears there, in code, comments or tests.
const ENGINE_WORDS: [&str; 7] = [
    "eck",
    "k8s.elastic.co",
    "es-http",
    "kb-http",
    "es-elastic-user",
    "observedgeneration",
    "inprogressoperations",
];

/// `file:line: word` for each engine word in the rooms above the seam.
fn engine_words_above_the_seam() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for room in ["operations", "clusters"] {
        let mut files = Vec::new();
        rust_files(&src.join(room), &mut files);
        files.sort();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                for word in engine_words(line) {
                    out.push(format!(
                        "{}:{}: {word}",
                        file.strip_prefix(&src).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    out
}

/// The engine words on a line (case-insensitive; `eck` as a whole word only, so `check` is fine).
fn engine_words(line: &str) -> Vec<&'static str> {
    let lower = line.to_ascii_lowercase();
    ENGINE_WORDS
        .into_iter()
        .filter(|w| {
            if *w != "eck" {
                return lower.contains(w);
            }
            lower
                .split(|c: char| !c.is_ascii_alphanumeric() && c != '_')
                .any(|token| token == "eck")
        })
        .collect()
}

#[test]
fn no_engine_word_above_the_seam() {
    let found = engine_words_above_the_seam();
    assert!(
        found.is_empty(),
        "engine words in operations/ or clusters/ (use k8s::engine, see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

#[test]
fn the_engine_word_scanner_sees_whole_words_only() {
    assert_eq!(engine_words("let x = check(deck);"), Vec::<&str>::new());
    assert_eq!(engine_words("// waiting for ECK."), vec!["eck"]);
    assert_eq!(
        engine_words("\"{name}-es-http.ns.svc\" status.observedGeneration"),
        vec!["es-http", "observedgeneration"]
    );
}
