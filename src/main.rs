//! gridgov: the spatial heart of grid-based community governance.
//!
//! Command line: generate the sample district, import real data, look up
//! the grid of a point or an address, validate the topology, count per area.

use std::process::ExitCode;

use clap::Parser;
use gridgov::cli;

fn main() -> ExitCode {
    quiet_on_closed_pipe();
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

/// A reader that stops early (`gridgov validate --json | head`) closes
/// the pipe; printing to it then fails. That is the reader's choice, not
/// an error of ours: end at once and quietly, with the status a shell
/// gives a program stopped by SIGPIPE (128 + 13), as other tools do.
fn quiet_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(141);
        }
        default(info);
    }));
}
