//! The `bnngen` binary: parse the command line, run the subcommand, map the outcome to an
//! exit code (0 ok, 2 bad input, 1 internal or tool error or a missing cargo feature), and
//! print the error the way `cli::render` draws it.
//! Everything else is in `cli`.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match args.command.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", cli::render::render(&e));
            ExitCode::from(e.exit_code())
        }
    }
}
