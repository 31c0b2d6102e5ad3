//! `ats-host`: see `ats-host --help`.

use std::process::ExitCode;

fn main() -> ExitCode {
    match ats_host::cli::run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
