use clap::Parser;
use roster::{cli, config::Cli, telemetry};

fn main() -> std::process::ExitCode {
    let args = Cli::parse();
    telemetry::init(args.command.as_ref());
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("roster: cannot start: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(cli::run(args)) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("roster: {error:#}");
            std::process::ExitCode::FAILURE
        }
    };
    // Work still on a blocking thread past the shutdown grace (a hash, a spreadsheet) is not
    // waited for: its job's writes are transactional, and the next process redoes it.
    runtime.shutdown_background();
    code
}
