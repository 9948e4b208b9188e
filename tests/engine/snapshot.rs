//! A small JSON snapshot helper: compares a value with `tests/engine/snapshots/<name>.json`, shows a line
//! diff on mismatch, and writes the file only when `UPDATE_SNAPSHOTS=1` is set.

use std::path::PathBuf;
use std::{env, fs};

/// Folder of the committed snapshots.
fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/engine/snapshots")
}

fn updating() -> bool {
    env::var("UPDATE_SNAPSHOTS").is_ok_and(|v| v == "1")
}

/// Asserts that `value` pretty-printed equals snapshot `name`, or (re)writes it under `UPDATE_SNAPSHOTS=1`.
pub fn assert_json_snapshot(name: &str, value: &impl serde::Serialize) {
    if let Err(message) = check_json_snapshot(name, value) {
        panic!("{message}");
    }
}

/// Like [`assert_json_snapshot`], returning the failure message so a loop can report every mismatch.
pub fn check_json_snapshot(name: &str, value: &impl serde::Serialize) -> Result<(), String> {
    let path = snapshot_dir().join(format!("{name}.json"));
    let actual = serde_json::to_string_pretty(value).expect("snapshot value serializes") + "\n";
    let expected = fs::read_to_string(&path).ok();
    if expected.as_deref() == Some(actual.as_str()) {
        return Ok(());
    }
    if updating() {
        fs::create_dir_all(snapshot_dir()).expect("create the snapshot folder");
        fs::write(&path, &actual).expect("write the snapshot");
        eprintln!("updated snapshot {}", path.display());
        return Ok(());
    }
    Err(match expected {
        None => format!(
            "snapshot {name} is missing ({}).\nRun `UPDATE_SNAPSHOTS=1 cargo test --test engine` to create it.\n\
             actual:\n{actual}",
            path.display()
        ),
        Some(expected) => format!(
            "snapshot {name} differs ({}); `-` expected, `+` actual:\n{}\n\
             If the change is intended, run `UPDATE_SNAPSHOTS=1 cargo test --test engine` and review the diff.",
            path.display(),
            line_diff(&expected, &actual)
        ),
    })
}

/// A unified-style diff of two texts (longest common subsequence of lines), with two lines of context.
pub fn line_diff(expected: &str, actual: &str) -> String {
    let a: Vec<&str> = expected.lines().collect();
    let b: Vec<&str> = actual.lines().collect();
    // lcs[i][j] = length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut lines: Vec<(char, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            lines.push((' ', a[i]));
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            lines.push(('+', b[j]));
            j += 1;
        } else {
            lines.push(('-', a[i]));
            i += 1;
        }
    }
    const CONTEXT: usize = 2;
    let changed: Vec<usize> = (0..lines.len()).filter(|&k| lines[k].0 != ' ').collect();
    let mut out = String::new();
    let mut last_printed: Option<usize> = None;
    for (k, (tag, text)) in lines.iter().enumerate() {
        let near = changed.iter().any(|&c| c.abs_diff(k) <= CONTEXT);
        if !near {
            continue;
        }
        if last_printed.is_some_and(|l| l + 1 != k) {
            out.push_str("   ...\n");
        }
        out.push_str(&format!("{tag} {text}\n"));
        last_printed = Some(k);
    }
    out
}

#[test]
fn line_diff_shows_changes_with_context() {
    let diff = line_diff("a\nb\nc\nd\ne\nf\ng\n", "a\nb\nc\nD\ne\nf\ng\n");
    assert!(diff.contains("- d\n"), "{diff}");
    assert!(diff.contains("+ D\n"), "{diff}");
    assert!(
        diff.contains("  c\n") && diff.contains("  e\n"),
        "context around the change: {diff}"
    );
    assert!(
        !diff.contains("  a\n"),
        "lines far from the change are left out: {diff}"
    );
    assert!(line_diff("same\n", "same\n").is_empty());
}

#[test]
fn missing_and_different_snapshots_fail_with_instructions() {
    if updating() {
        return; // would write the probe snapshots instead of checking them
    }
    let missing = check_json_snapshot("no-such-snapshot", &1).unwrap_err();
    assert!(
        missing.contains("is missing") && missing.contains("UPDATE_SNAPSHOTS=1"),
        "{missing}"
    );
    let different =
        check_json_snapshot("tenant", &serde_json::json!({"namespace": "other"})).unwrap_err();
    assert!(
        different.contains("differs") && different.contains("+ "),
        "{different}"
    );
}
