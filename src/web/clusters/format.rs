//! How the cluster pages write times and durations for people (sizes: [`crate::tenants::quota::units`]).
//! Pure functions, no I/O.

use chrono::{DateTime, Utc};

/// A piece of a text that may mark code with backticks (a template's description): plain words or code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextPart {
    /// The words, escaped by the template like any text.
    pub text: String,
    /// Shown as `<code>`.
    pub code: bool,
}

/// Split `text` at backticks into plain and code parts, so "`node.attr.data`" reads as code, not as
/// Markdown punctuation. An unpaired backtick stays a backtick.
pub fn inline_code(text: &str) -> Vec<TextPart> {
    let pieces: Vec<&str> = text.split('`').collect();
    if pieces.len().is_multiple_of(2) {
        return vec![TextPart {
            text: text.to_owned(),
            code: false,
        }];
    }
    pieces
        .into_iter()
        .enumerate()
        .filter(|(_, p)| !p.is_empty())
        .map(|(i, p)| TextPart {
            text: p.to_owned(),
            code: i % 2 == 1,
        })
        .collect()
}

/// A timestamp as `2026-11-22 07:28:01 UTC`.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A machine-readable timestamp for `<time datetime>`.
pub fn iso(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// A duration in seconds as `45 s`, `2 min 5 s`, `3 h 4 min`, `2 d 3 h`.
pub fn duration(secs: i64) -> String {
    let s = secs.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => {
            let (m, r) = (s / 60, s % 60);
            if r == 0 {
                format!("{m} min")
            } else {
                format!("{m} min {r} s")
            }
        }
        3600..86_400 => {
            let (h, m) = (s / 3600, (s % 3600) / 60);
            if m == 0 {
                format!("{h} h")
            } else {
                format!("{h} h {m} min")
            }
        }
        _ => {
            let (d, h) = (s / 86_400, (s % 86_400) / 3600);
            if h == 0 {
                format!("{d} d")
            } else {
                format!("{d} d {h} h")
            }
        }
    }
}

/// How long ago `t` was, coarsely (`12 s`, `5 min`, `3 h`, `2 d`).
pub fn age(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let s = (now - t).num_seconds().max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h", s / 3600),
        _ => format!("{} d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(0), "0 s");
        assert_eq!(duration(59), "59 s");
        assert_eq!(duration(60), "1 min");
        assert_eq!(duration(125), "2 min 5 s");
        assert_eq!(duration(3600 + 240), "1 h 4 min");
        assert_eq!(duration(2 * 86_400 + 3 * 3600), "2 d 3 h");
        assert_eq!(duration(-5), "0 s");
    }

    #[test]
    fn ages_are_coarse() {
        let now = Utc::now();
        assert_eq!(age(now - chrono::Duration::seconds(5), now), "5 s");
        assert_eq!(age(now - chrono::Duration::seconds(700), now), "11 min");
        assert_eq!(age(now - chrono::Duration::hours(30), now), "1 d");
        assert!(timestamp(now).ends_with("UTC"));
    }

    #[test]
    fn backticks_become_code_parts() {
        let parts = inline_code("tagged with `node.attr.data` for ILM");
        assert_eq!(parts.len(), 3);
        assert!(!parts[0].code && parts[1].code && !parts[2].code);
        assert_eq!(parts[1].text, "node.attr.data");
        assert_eq!(inline_code("an odd ` mark")[0].text, "an odd ` mark");
    }
}
