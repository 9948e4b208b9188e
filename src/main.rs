//! The `esaas` binary: parse the command line and hand over to the library.

use std::process::ExitCode;

use clap::Parser;

/// Errors end the process with their message and causes on one line each, exit status 1: no backtrace
/// (that is for bugs, not for "no user with email x"), whatever `RUST_BACKTRACE` says.
fn main() -> ExitCode {
    let cli = esaas::cli::Cli::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(anyhow::Error::from)
        .and_then(|runtime| runtime.block_on(esaas::cli::run(cli)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}
