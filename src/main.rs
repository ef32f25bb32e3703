//! gridgov: the spatial heart of grid-based community governance.
//!
//! Command line: generate the sample district, import real data, look up
//! the grid of a point or an address, validate the topology, count per area.

use std::process::ExitCode;

use clap::Parser;
use gridgov::cli;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {}", e.error());
            let mut src = e.error().source();
            while let Some(s) = src {
                eprintln!("  caused by: {s}");
                src = s.source();
            }
            e.exit_code()
        }
    }
}
