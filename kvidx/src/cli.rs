//! The command line: every command, argument and option, and their help
//! texts (`kvidx --help`, `kvidx help COMMAND`, the man page). Built with
//! clap's builder API: its derive macros would add a second configuration
//! of `syn` to the build, and with it a second build of the library.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command as Cmd, value_parser};

const AFTER_HELP: &str = "\
The engine comes from PATH: an existing file is a SQLite3 store, an existing
directory an LMDB environment; a new path ending in .sqlite3 is SQLite3,
any other LMDB. --engine overrides this.

Keys, terms and cmds are decimal (42) or hexadecimal with 0x (0x2a), from 0
to 2^64-1.

Exit status: 0 success, 1 error (the store or a file cannot be used, or
`verify` found damage), 2 usage error (bad arguments, e.g. a malformed key),
3 not found (the key does not exist: get, del, ttl, expire, persist,
put --xx).

See docs/cli.md, or `kvidx help COMMAND` for one command.";

/// The parsed command line.
#[derive(Debug)]
pub struct Cli {
    /// `--engine`: the engine of the store instead of the one its path implies.
    pub engine: Option<EngineKind>,
    /// `--wait`: seconds to wait for a store another process is using.
    pub wait: f64,
    /// `--quiet`: no progress bars and no summaries.
    pub quiet: bool,
    /// The command.
    pub command: Command,
}

/// A storage engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineKind {
    /// SQLite3: the store is one file.
    Sqlite,
    /// LMDB: the store is a directory (data.mdb, lock.mdb).
    Lmdb,
}

impl EngineKind {
    /// The engine's name as the library gives it.
    pub fn name(self) -> &'static str {
        match self {
            EngineKind::Sqlite => "SQLite3",
            EngineKind::Lmdb => "LMDB",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "lmdb" { EngineKind::Lmdb } else { EngineKind::Sqlite }
    }
}

/// A key range: `--from K --to K`, both inclusive.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    /// First key (inclusive).
    pub from: Option<u64>,
    /// Last key (inclusive).
    pub to: Option<u64>,
}

impl Range {
    /// The inclusive bounds.
    pub fn bounds(self) -> std::ops::RangeInclusive<u64> {
        self.from.unwrap_or(0)..=self.to.unwrap_or(u64::MAX)
    }
}

/// Output of `get`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GetFormat {
    /// The value alone, escaped if needed.
    Value,
    /// The exact bytes of the value.
    Raw,
    /// A table row.
    Table,
    /// A JSON object.
    Json,
    /// A CSV record.
    Csv,
}

/// Output of `scan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanFormat {
    /// Aligned columns.
    Table,
    /// One JSON object per line.
    Json,
    /// CSV with a header.
    Csv,
    /// The values' bytes.
    Raw,
}

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FormatArg {
    /// The original's binary format.
    Binary,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// An import format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    /// Detected from the file.
    Auto,
    /// Binary.
    Binary,
    /// JSON.
    Json,
    /// CSV.
    Csv,
}

/// The commands and their arguments.
#[derive(Debug)]
pub enum Command {
    /// `info PATH [--json]`.
    Info { path: PathBuf, json: bool },
    /// `get PATH KEY [--format F]`.
    Get { path: PathBuf, key: u64, format: GetFormat },
    /// `put PATH KEY [VALUE | --file F | -] ...`.
    Put {
        path: PathBuf,
        key: u64,
        value: Option<OsString>,
        file: Option<PathBuf>,
        term: u64,
        cmd: u64,
        nx: bool,
        xx: bool,
        ttl: Option<u64>,
    },
    /// `del PATH KEY`.
    Del { path: PathBuf, key: u64 },
    /// `ttl PATH KEY`.
    Ttl { path: PathBuf, key: u64 },
    /// `expire PATH KEY MS`.
    Expire { path: PathBuf, key: u64, ms: u64 },
    /// `persist PATH KEY`.
    Persist { path: PathBuf, key: u64 },
    /// `scan PATH [--from K] [--to K] [--reverse] [--limit N] [--format F]`.
    Scan { path: PathBuf, range: Range, reverse: bool, limit: Option<u64>, format: ScanFormat },
    /// `count PATH [--from K] [--to K]`.
    Count { path: PathBuf, range: Range },
    /// `export PATH FILE ...`.
    Export { path: PathBuf, file: PathBuf, format: Option<FormatArg>, range: Range, pretty: bool, no_metadata: bool },
    /// `import PATH FILE ...`.
    Import { path: PathBuf, file: PathBuf, format: ImportFormat, clear: bool, skip_duplicates: bool },
    /// `copy SRC DST [--to-engine E]`.
    Copy { src: PathBuf, dst: PathBuf, to_engine: Option<EngineKind> },
    /// `verify PATH`.
    Verify { path: PathBuf },
    /// `compact PATH`.
    Compact { path: PathBuf },
    /// `expire-scan PATH [--max N]`.
    ExpireScan { path: PathBuf, max: Option<u64> },
    /// `manpage` (hidden): the man page.
    Manpage,
}

/// A key, term or cmd: decimal or 0x-hexadecimal.
fn number(s: &str) -> Result<u64, String> {
    crate::text::parse_u64(s)
}

/// A number of seconds, 0 or more (fractions allowed).
fn seconds(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(v) if (0.0..=1e6).contains(&v) => Ok(v),
        _ => Err(format!("'{s}' is not a number of seconds from 0 to 1000000")),
    }
}

fn path_arg(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).required(true).value_parser(value_parser!(PathBuf)).help(help)
}

fn store() -> Arg {
    path_arg("path", "The store").value_name("PATH")
}

fn key() -> Arg {
    Arg::new("key").required(true).value_name("KEY").value_parser(number).help("The key")
}

fn range_args(c: Cmd) -> Cmd {
    c.arg(Arg::new("from").long("from").value_name("K").value_parser(number).help("First key (inclusive)"))
        .arg(Arg::new("to").long("to").value_name("K").value_parser(number).help("Last key (inclusive)"))
}

fn flag(name: &'static str, help: &'static str) -> Arg {
    Arg::new(name).long(name).action(ArgAction::SetTrue).help(help)
}

/// The whole command line, as clap describes it.
pub fn command() -> Cmd {
    Cmd::new("kvidx")
        .version(env!("CARGO_PKG_VERSION"))
        .about("Look at and maintain kvidxkit stores (SQLite3 files and LMDB environments)")
        .after_help(AFTER_HELP)
        .max_term_width(100)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .arg(
            Arg::new("engine")
                .long("engine")
                .global(true)
                .value_name("ENGINE")
                .value_parser(["sqlite3", "lmdb"])
                .display_order(100)
                .help("The store's engine, instead of the one PATH implies (copy: SRC's)"),
        )
        .arg(
            Arg::new("wait")
                .long("wait")
                .global(true)
                .value_name("SECONDS")
                .value_parser(seconds)
                .default_value("0")
                .display_order(101)
                .help("Wait up to SECONDS for a store another process is using")
                .long_help(
                    "Wait up to SECONDS for a store another process is using (a SQLite3 store it has\n\
                     open, an LMDB write transaction it has open) instead of failing at once",
                ),
        )
        .arg(
            Arg::new("quiet")
                .short('q')
                .long("quiet")
                .global(true)
                .action(ArgAction::SetTrue)
                .display_order(102)
                .help("No progress bars, no summaries (results and errors are still printed)"),
        )
        .subcommand(
            Cmd::new("info")
                .about("Show the store: engine, entries, key range, sizes, TTLs, configuration, versions")
                .arg(store())
                .arg(flag("json", "Print one JSON object instead of text")),
        )
        .subcommand(
            Cmd::new("get")
                .about("Print the value of KEY (exit status 3 if there is none)")
                .arg(store())
                .arg(key())
                .arg(
                    Arg::new("format")
                        .value_name("FORMAT")
                        .long("format")
                        .value_parser(["value", "raw", "table", "json", "csv"])
                        .default_value("value")
                        .help("What to print")
                        .long_help(
                            "What to print. value: the value alone, escaped if needed; raw: its exact bytes;\n\
                         table, json, csv: the whole entry, as `scan` prints it",
                        ),
                ),
        )
        .subcommand(
            Cmd::new("put")
                .about("Store a value at KEY (insert or overwrite; the store is created if missing)")
                .after_help(
                    "The value comes from VALUE, from --file F, or from standard input when VALUE is '-'.\n\
                     Overwriting an entry keeps its expiry time; --ttl sets one.",
                )
                .arg(store())
                .arg(key())
                .arg(
                    Arg::new("value")
                        .value_name("VALUE")
                        .value_parser(value_parser!(OsString))
                        .conflicts_with("file")
                        .required_unless_present("file")
                        .help("The value ('-': read it from standard input)"),
                )
                .arg(
                    Arg::new("file")
                        .long("file")
                        .value_name("F")
                        .value_parser(value_parser!(PathBuf))
                        .help("Read the value from file F"),
                )
                .arg(
                    Arg::new("term")
                        .long("term")
                        .value_name("T")
                        .value_parser(number)
                        .default_value("0")
                        .help("The entry's term"),
                )
                .arg(
                    Arg::new("cmd")
                        .long("cmd")
                        .value_name("C")
                        .value_parser(number)
                        .default_value("0")
                        .help("The entry's cmd"),
                )
                .arg(flag("nx", "Only if KEY does not exist (else exit status 1)").conflicts_with("xx"))
                .arg(flag("xx", "Only if KEY exists (else exit status 3)"))
                .arg(
                    Arg::new("ttl")
                        .long("ttl")
                        .value_name("MS")
                        .value_parser(value_parser!(u64))
                        .help("Also make the entry expire MS milliseconds from now"),
                ),
        )
        .subcommand(Cmd::new("del").about("Remove KEY (exit status 3 if it does not exist)").arg(store()).arg(key()))
        .subcommand(
            Cmd::new("ttl")
                .about("Print the time KEY has left in milliseconds, or \"persistent\"")
                .arg(store())
                .arg(key()),
        )
        .subcommand(
            Cmd::new("expire").about("Make KEY expire MS milliseconds from now (0: now)").arg(store()).arg(key()).arg(
                Arg::new("ms")
                    .required(true)
                    .value_name("MS")
                    .value_parser(value_parser!(u64))
                    .help("Milliseconds from now"),
            ),
        )
        .subcommand(Cmd::new("persist").about("Remove the expiry time of KEY").arg(store()).arg(key()))
        .subcommand(
            range_args(Cmd::new("scan").about("Print the entries of a key range").arg(store()))
                .arg(flag("reverse", "Highest keys first"))
                .arg(
                    Arg::new("limit")
                        .long("limit")
                        .value_name("N")
                        .value_parser(value_parser!(u64))
                        .help("At most N entries"),
                )
                .arg(
                    Arg::new("format")
                        .value_name("FORMAT")
                        .long("format")
                        .value_parser(["table", "json", "csv", "raw"])
                        .default_value("table")
                        .help("How to print the entries")
                        .long_help(
                            "How to print the entries. table: key, term, cmd, value (escaped if needed);\n\
                             json: one JSON object per line (\"data\", or \"dataBase64\" for a value that is\n\
                             not UTF-8); csv: as `export --format csv`; raw: each value's bytes and a newline",
                        ),
                ),
        )
        .subcommand(range_args(Cmd::new("count").about("Print the number of entries (in a key range)").arg(store())))
        .subcommand(
            range_args(
                Cmd::new("export")
                    .about("Write the entries (of a key range) to FILE, or to standard output with '-'")
                    .after_help(
                        "The format defaults to FILE's suffix: .json is JSON, .csv CSV, anything else binary.\n\
                         The formats are those of kvidxExport (docs/formats.md). A binary export is not written\n\
                         to a terminal.",
                    )
                    .arg(store())
                    .arg(path_arg("file", "The file to write ('-': standard output)").value_name("FILE"))
                    .arg(
                        Arg::new("format")
                            .value_name("FORMAT")
                            .long("format")
                            .value_parser(["binary", "json", "csv"])
                            .help("The format"),
                    ),
            )
            .arg(flag("pretty", "JSON: one entry per line"))
            .arg(flag("no-metadata", "JSON and CSV: leave out term and cmd")),
        )
        .subcommand(
            Cmd::new("import")
                .about("Add the entries of an export file (or of standard input with '-'), all or nothing")
                .after_help(
                    "The whole file is validated before anything changes; then every entry is inserted in one\n\
                     transaction. An entry whose key exists fails the import unless --skip-duplicates.\n\
                     The store is created if missing.",
                )
                .arg(store())
                .arg(path_arg("file", "The file to read ('-': standard input)").value_name("FILE"))
                .arg(
                    Arg::new("format")
                        .value_name("FORMAT")
                        .long("format")
                        .value_parser(["auto", "binary", "json", "csv"])
                        .default_value("auto")
                        .help("The format (auto: detected from the file's first bytes)"),
                )
                .arg(flag("clear", "Remove every entry first (in the same transaction)"))
                .arg(flag("skip-duplicates", "Skip entries whose key exists instead of failing")),
        )
        .subcommand(
            Cmd::new("copy")
                .about("Copy a store to a new one, of any engine (a consistent snapshot; expiry times kept)")
                .after_help(
                    "DST must not exist. Its engine comes from its name (.sqlite3: SQLite3, else LMDB) or\n\
                     --to-engine. The copy is built under a temporary name next to DST and renamed to DST\n\
                     only when it is complete and its counts are checked: DST never exists half-written.",
                )
                .arg(path_arg("src", "The store to copy").value_name("SRC"))
                .arg(path_arg("dst", "The new store").value_name("DST"))
                .arg(
                    Arg::new("to-engine")
                        .long("to-engine")
                        .value_name("ENGINE")
                        .value_parser(["sqlite3", "lmdb"])
                        .help("Engine of DST"),
                ),
        )
        .subcommand(
            Cmd::new("verify")
                .about("Check the whole store for damage; report it, and exit with status 1 if there is any")
                .after_help(
                    "SQLite3: PRAGMA integrity_check and the column types of every row. LMDB: a walk of every\n\
                     record of _kvidx_data and _kvidx_ttl and of the free-page list, and an account of every\n\
                     page. Both: every entry readable and well formed, keys in order, counts that agree, and\n\
                     every TTL record belonging to an entry. The store is opened read-only.",
                )
                .arg(store()),
        )
        .subcommand(
            Cmd::new("compact")
                .about("Rewrite the store without free space (SQLite3: VACUUM; LMDB: a compacting copy)")
                .after_help(
                    "The store is replaced atomically. An LMDB environment that another process has open is\n\
                     not compacted (exit status 1).",
                )
                .arg(store()),
        )
        .subcommand(
            Cmd::new("expire-scan").about("Remove the entries whose expiry time has passed").arg(store()).arg(
                Arg::new("max")
                    .long("max")
                    .value_name("N")
                    .value_parser(value_parser!(u64).range(1..))
                    .help("At most N entries, soonest expired first (default: all)"),
            ),
        )
        .subcommand(Cmd::new("manpage").hide(true).about("Print the man page (roff) to standard output"))
}

/// Reads the command line (clap's error on bad usage).
pub fn parse() -> Result<Cli, clap::Error> {
    from_matches(&command().try_get_matches()?)
}

fn from_matches(m: &ArgMatches) -> Result<Cli, clap::Error> {
    let engine = m.get_one::<String>("engine").map(|s| EngineKind::parse(s));
    let wait = m.get_one::<f64>("wait").copied().unwrap_or(0.0);
    let quiet = m.get_flag("quiet");
    let Some((name, a)) = m.subcommand() else {
        return Err(command().error(clap::error::ErrorKind::MissingSubcommand, "a command is required"));
    };
    let path = || a.get_one::<PathBuf>("path").cloned().unwrap_or_default();
    let key = || a.get_one::<u64>("key").copied().unwrap_or(0);
    let text = |n: &str| a.get_one::<String>(n).map(String::as_str).unwrap_or_default();
    let range = || Range { from: a.get_one::<u64>("from").copied(), to: a.get_one::<u64>("to").copied() };
    let command = match name {
        "info" => Command::Info { path: path(), json: a.get_flag("json") },
        "get" => Command::Get {
            path: path(),
            key: key(),
            format: match text("format") {
                "raw" => GetFormat::Raw,
                "table" => GetFormat::Table,
                "json" => GetFormat::Json,
                "csv" => GetFormat::Csv,
                _ => GetFormat::Value,
            },
        },
        "put" => Command::Put {
            path: path(),
            key: key(),
            value: a.get_one::<OsString>("value").cloned(),
            file: a.get_one::<PathBuf>("file").cloned(),
            term: a.get_one::<u64>("term").copied().unwrap_or(0),
            cmd: a.get_one::<u64>("cmd").copied().unwrap_or(0),
            nx: a.get_flag("nx"),
            xx: a.get_flag("xx"),
            ttl: a.get_one::<u64>("ttl").copied(),
        },
        "del" => Command::Del { path: path(), key: key() },
        "ttl" => Command::Ttl { path: path(), key: key() },
        "expire" => Command::Expire { path: path(), key: key(), ms: a.get_one::<u64>("ms").copied().unwrap_or(0) },
        "persist" => Command::Persist { path: path(), key: key() },
        "scan" => Command::Scan {
            path: path(),
            range: range(),
            reverse: a.get_flag("reverse"),
            limit: a.get_one::<u64>("limit").copied(),
            format: match text("format") {
                "json" => ScanFormat::Json,
                "csv" => ScanFormat::Csv,
                "raw" => ScanFormat::Raw,
                _ => ScanFormat::Table,
            },
        },
        "count" => Command::Count { path: path(), range: range() },
        "export" => Command::Export {
            path: path(),
            file: a.get_one::<PathBuf>("file").cloned().unwrap_or_default(),
            format: match text("format") {
                "binary" => Some(FormatArg::Binary),
                "json" => Some(FormatArg::Json),
                "csv" => Some(FormatArg::Csv),
                _ => None,
            },
            range: range(),
            pretty: a.get_flag("pretty"),
            no_metadata: a.get_flag("no-metadata"),
        },
        "import" => Command::Import {
            path: path(),
            file: a.get_one::<PathBuf>("file").cloned().unwrap_or_default(),
            format: match text("format") {
                "binary" => ImportFormat::Binary,
                "json" => ImportFormat::Json,
                "csv" => ImportFormat::Csv,
                _ => ImportFormat::Auto,
            },
            clear: a.get_flag("clear"),
            skip_duplicates: a.get_flag("skip-duplicates"),
        },
        "copy" => Command::Copy {
            src: a.get_one::<PathBuf>("src").cloned().unwrap_or_default(),
            dst: a.get_one::<PathBuf>("dst").cloned().unwrap_or_default(),
            to_engine: a.get_one::<String>("to-engine").map(|s| EngineKind::parse(s)),
        },
        "verify" => Command::Verify { path: path() },
        "compact" => Command::Compact { path: path() },
        "expire-scan" => Command::ExpireScan { path: path(), max: a.get_one::<u64>("max").copied() },
        _ => Command::Manpage,
    };
    Ok(Cli { engine, wait, quiet, command })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_is_consistent() {
        command().debug_assert();
    }

    fn parse_args(args: &[&str]) -> Result<Cli, clap::Error> {
        from_matches(&command().try_get_matches_from(args)?)
    }

    #[test]
    fn options_go_before_or_after_the_command() {
        let c = parse_args(&["kvidx", "--engine", "lmdb", "get", "p", "0x10"]).unwrap();
        assert_eq!(c.engine, Some(EngineKind::Lmdb));
        assert!(matches!(c.command, Command::Get { key: 16, format: GetFormat::Value, .. }));
        let c =
            parse_args(&["kvidx", "scan", "p", "--from", "5", "--quiet", "--wait", "1.5", "--format", "csv"]).unwrap();
        assert!(c.quiet);
        assert_eq!(c.wait, 1.5);
        assert!(matches!(
            c.command,
            Command::Scan { range: Range { from: Some(5), to: None }, format: ScanFormat::Csv, .. }
        ));
    }

    #[test]
    fn bad_usage_is_refused() {
        for args in [
            &["kvidx", "get", "p", "-1"][..],
            &["kvidx", "get", "p"],
            &["kvidx", "put", "p", "1"],
            &["kvidx", "put", "p", "1", "v", "--file", "f"],
            &["kvidx", "put", "p", "1", "v", "--nx", "--xx"],
            &["kvidx", "expire-scan", "p", "--max", "0"],
            &["kvidx", "--wait", "-1", "count", "p"],
            &["kvidx", "--engine", "rocks", "count", "p"],
            &["kvidx", "frobnicate", "p"],
        ] {
            assert!(parse_args(args).is_err(), "{args:?} accepted");
        }
    }
}
