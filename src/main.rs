//! The `esaas` binary: parse the command line and hand over to the library.

use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = esaas::cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(esaas::cli::run(cli))
}
