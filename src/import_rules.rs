//! The import rules of `ARCHITECTURE.md`, checked on the source: the adapters (`web`, `api`, `cli`) sit on
//! top, so nothing else names them, and the two HTTP adapters do not name each other; no two rooms import
//! each other, directly or around a cycle; no adapter begins a transaction; no engine word appears above the
//! engine seam. Reads every `.rs` file
//! under `src/`, ignoring comments and `#[cfg(test)]` parts, and fails with each offending file and line.

use std::collections::{BTreeMap, BTreeSet};
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

/// Room -> the rooms it imports (names under `crate::` that are not rooms, such as `crate::MAX_BODY_BYTES`
/// of `lib.rs`, the composition root, are left out).
fn room_graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let is_room = |name: &str| src.join(name).is_dir() || src.join(format!("{name}.rs")).is_file();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in &files {
        let from = room(&src, file);
        if matches!(from.as_str(), "lib" | "main" | "import_rules") {
            continue;
        }
        let text = std::fs::read_to_string(file).expect("readable");
        let targets = graph.entry(from.clone()).or_default();
        for (_, to) in imports(&text) {
            if to != from && is_room(&to) {
                targets.insert(to);
            }
        }
    }
    graph
}

/// One import cycle between rooms (`a -> b -> ... -> a`), if there is any.
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        room: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|r| r == room) {
            let mut cycle = path[at..].to_vec();
            cycle.push(room.to_owned());
            return Some(cycle);
        }
        if done.contains(room) {
            return None;
        }
        path.push(room.to_owned());
        for next in graph.get(room).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(room.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|room| visit(room, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycle_between_rooms() {
    let graph = room_graph();
    assert!(graph.contains_key("clusters") && graph["web"].contains("clusters"));
    if let Some(cycle) = a_cycle(&graph) {
        panic!(
            "the rooms import each other in a cycle (see ARCHITECTURE.md): {}",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let graph = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
        }
        g
    };
    assert_eq!(a_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])), None);
    assert_eq!(
        a_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "b")])),
        Some(vec!["b".to_owned(), "c".to_owned(), "b".to_owned()])
    );
}

/// `file:line` for each transaction an adapter begins itself (`.begin()`, `Connection::begin`) outside
/// comments and tests: changes go through the domain rooms' services, which own their transactions.
fn transactions_begun_by_adapters() -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    for adapter in ADAPTERS {
        let mut files = Vec::new();
        rust_files(&src.join(adapter), &mut files);
        files.sort();
        for file in &files {
            let text = std::fs::read_to_string(file).expect("readable");
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                let code = line.split("//").next().unwrap_or("");
                if code.contains(".begin()") || code.contains("Connection::begin") {
                    out.push(format!(
                        "{}:{}",
                        file.strip_prefix(&src).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn no_adapter_begins_a_transaction() {
    let found = transactions_begun_by_adapters();
    assert!(
        found.is_empty(),
        "adapters that begin transactions (call a service instead, see ARCHITECTURE.md):\n{}",
        found.join("\n")
    );
}

/// The rooms above the engine seam: they reach engines only through `k8s::engine`.
const ENGINE_FREE_ROOMS: [&str; 4] = ["operations", "controller", "clusters", "spec"];

/// Words that belong to one engine (ECK's names, kinds and status fields). None of them appears in the
/// [`ENGINE_FREE_ROOMS`], in code, comments or tests.
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
    for room in ENGINE_FREE_ROOMS {
        let mut files = Vec::new();
        let dir = src.join(room);
        if dir.is_dir() {
            rust_files(&dir, &mut files);
        }
        let file = src.join(format!("{room}.rs"));
        if file.is_file() {
            files.push(file);
        }
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
        "engine words above the seam (use k8s::engine, see ARCHITECTURE.md):\n{}",
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
