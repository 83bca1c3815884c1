//! `kvidx`: the command-line tool for kvidxkit stores. See docs/cli.md.

mod cli;
mod commands;
mod fail;
mod open;
mod progress;
mod text;

use clap::error::ErrorKind;

fn main() {
    let cli = match cli::parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to standard output and succeed;
            // `kvidx` alone prints the help and is a usage error; anything
            // else is a usage error (status 2) told in one line.
            if !e.use_stderr() {
                let _ = e.print();
                std::process::exit(fail::OK);
            }
            if e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                let _ = e.print();
            } else {
                eprintln!("kvidx: {}", usage_line(&e.render().to_string()));
            }
            std::process::exit(fail::USAGE);
        }
    };
    let code = match commands::run(cli) {
        Ok(()) => fail::OK,
        Err(f) => {
            if let Some(m) = f.message {
                eprintln!("kvidx: {m}");
            }
            f.code
        }
    };
    std::process::exit(code);
}

/// Clap's message made one line: its first paragraph (the error, with any
/// list of arguments it names), and where to read the usage.
fn usage_line(rendered: &str) -> String {
    let first: Vec<&str> = rendered.lines().map(str::trim).take_while(|l| !l.is_empty()).collect();
    let message = first.join(" ");
    let message = message.strip_prefix("error: ").unwrap_or(&message);
    let command = std::env::args().skip(1).find(|a| cli::command().find_subcommand(a).is_some());
    match command {
        Some(c) => format!("{message}; see `kvidx help {c}`"),
        None => format!("{message}; see `kvidx --help`"),
    }
}
