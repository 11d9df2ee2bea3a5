use std::process::ExitCode;

use clap::Parser;
use contract_review::config::Cli;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    contract_review::telemetry::init(cli.global.log_format);
    contract_review::cli::run(cli).await
}
