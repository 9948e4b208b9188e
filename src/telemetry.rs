//! Structured logs: `tracing` with a request id on every line of a request's span.
//! Never log passwords, tokens, cookies or Secret contents.

use tracing_subscriber::EnvFilter;

/// Install the global subscriber (text or JSON lines). Safe to call more than once (tests).
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,kube=warn,tower_http=info"));
    // Colour codes only on a terminal: logs written to a file or a pipe stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi);
    let _ = if json {
        builder.json().flatten_event(true).try_init()
    } else {
        builder.try_init()
    };
}
