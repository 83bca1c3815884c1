//! `kvidx`: the command-line tool for kvidxkit stores. See docs/cli.md.

mod cli;
mod commands;
mod fail;
mod open;
mod progress;
mod text;

fn main() {
    let cli = match cli::parse() {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to standard output and succeed;
            // anything else is a usage error (status 2).
            let code = if e.use_stderr() { fail::USAGE } else { fail::OK };
            let _ = e.print();
            std::process::exit(code);
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
