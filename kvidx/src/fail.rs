//! Failures: one line on standard error and an exit status.

use std::path::Path;

use kvidxkit::Error;

/// Exit status: success.
pub const OK: i32 = 0;
/// Exit status: an error (the store or a file cannot be used; damage found).
pub const ERROR: i32 = 1;
/// Exit status: bad usage (clap's own errors use it too).
pub const USAGE: i32 = 2;
/// Exit status: the key does not exist.
pub const NOT_FOUND: i32 = 3;

/// Why a command failed: its exit status and the line to print (none for a
/// status that says it all).
#[derive(Debug)]
pub struct Fail {
    /// The exit status.
    pub code: i32,
    /// The message, without the "kvidx: " prefix.
    pub message: Option<String>,
}

/// The result of a command.
pub type Outcome<T = ()> = Result<T, Fail>;

impl Fail {
    /// An error with a message.
    pub fn error(message: impl Into<String>) -> Self {
        Fail { code: ERROR, message: Some(message.into()) }
    }

    /// A usage error with a message.
    pub fn usage(message: impl Into<String>) -> Self {
        Fail { code: USAGE, message: Some(message.into()) }
    }

    /// The key does not exist in the store at `path`.
    pub fn not_found(path: &Path, key: u64) -> Self {
        Fail { code: NOT_FOUND, message: Some(format!("{}: key {key} not found", path.display())) }
    }

    /// A status without a message.
    pub fn silent(code: i32) -> Self {
        Fail { code, message: None }
    }

    /// A library error about the store at `path`: its message and a hint.
    pub fn store(path: &Path, engine: &str, e: Error) -> Self {
        let hint = hint(&e, engine);
        let code = if matches!(e, Error::NotFound(_)) { NOT_FOUND } else { ERROR };
        Fail { code, message: Some(format!("{}: {}{hint}", path.display(), said_once(&e.to_string()))) }
    }

    /// An I/O error on a file other than the store.
    pub fn io(what: &str, path: &Path, e: std::io::Error) -> Self {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return broken_pipe();
        }
        Fail::error(format!("{what} {}: {e}", path.display()))
    }
}

/// The reader of standard output went away (`kvidx scan … | head`): not an
/// error, the output was simply not wanted any more.
pub fn broken_pipe() -> Fail {
    Fail::silent(OK)
}

/// An error writing standard output.
pub fn stdout(e: std::io::Error) -> Fail {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        broken_pipe()
    } else {
        Fail::error(format!("cannot write to standard output: {e}"))
    }
}

/// The library's message without a repetition: an error whose detail is
/// its kind's own text reads "database is locked: database is locked".
fn said_once(m: &str) -> &str {
    match m.split_once(": ") {
        Some((kind, detail)) if kind == detail => kind,
        _ => m,
    }
}

/// What to do about `e`, after the library's message.
fn hint(e: &Error, engine: &str) -> String {
    let h = match e {
        Error::Locked(m) if m.contains("already open in this process") => "",
        Error::Locked(_) if engine == "SQLite3" => {
            " (in use by another process: a SQLite3 store is opened exclusively; stop the program that has it \
             open, or wait until it closes the store)"
        }
        Error::Locked(_) => " (in use by another process)",
        Error::Corrupt(_) => " (the store is damaged: `kvidx verify` reports what is wrong)",
        Error::Schema(_) => " (not a kvidxkit store)",
        Error::ReadOnly(_) => " (no permission to write the store)",
        Error::DiskFull(_) => " (no space left on the device)",
        _ => "",
    };
    h.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_says_its_kind_once() {
        assert_eq!(said_once("database is locked: database is locked"), "database is locked");
        assert_eq!(said_once("database is locked: held by pid 7"), "database is locked: held by pid 7");
        assert_eq!(said_once("corrupt"), "corrupt");
        let f = Fail::store(Path::new("a.sqlite3"), "SQLite3", Error::Locked("database is locked".into()));
        assert_eq!(f.code, ERROR);
        assert!(f.message.unwrap().starts_with("a.sqlite3: database is locked (in use by another process"));
    }
}
