//! The one error type of the safe core, and its mapping to `kvidxError` codes.

/// Everything that can go wrong, as one enum; every fallible call of the
/// crate returns it ([`Result`]).
///
/// Match on the variant to react to a condition; the `String` of most
/// variants is a message for people (it names the key, file, engine call
/// or rule involved; its wording is not stable). A failed call changes
/// nothing. Each variant maps to exactly one C error code
/// ([`Error::code`]).
///
/// ```
/// # use kvidxkit::{Error, Sqlite, Store};
/// let mut db = Store::<Sqlite>::open(":memory:")?;
/// db.insert(1, 1, 0, b"a")?;
/// let e = db.insert(1, 1, 0, b"b").unwrap_err();
/// assert_eq!(e, Error::DuplicateKey(1));
/// assert_eq!(e.to_string(), "key 1 already exists");
/// assert_eq!(e.code(), kvidxkit::ErrorCode::DuplicateKey);
/// # Ok::<(), kvidxkit::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// An argument the call cannot accept: a configuration value out of
    /// range, a path with a NUL byte or that is not a directory where LMDB
    /// needs one, an offset whose end overflows, a schema migration listed
    /// twice, a VFS that cannot be used.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// [`Store::insert`](crate::Store::insert) (or an import without
    /// [`skip_duplicates`](crate::formats::ImportOptions::skip_duplicates))
    /// met a live entry at this key; nothing was written.
    #[error("key {0} already exists")]
    DuplicateKey(u64),
    /// The key a call needs is absent or has expired
    /// ([`Store::compare_and_swap`](crate::Store::compare_and_swap),
    /// [`Store::expire_in`](crate::Store::expire_in),
    /// [`Store::persist`](crate::Store::persist),
    /// [`Store::get_value_range`](crate::Store::get_value_range), …).
    /// Plain reads report an absent key as `Ok(None)` or `Ok(false)`
    /// instead.
    #[error("{0}")]
    NotFound(String),
    /// No room left: the file system is full (`ENOSPC`), a file-size limit
    /// (`EFBIG`) or quota (`EDQUOT`) was reached, or an LMDB transaction
    /// outgrew the whole map (it was rolled back; the map grows before the
    /// next transaction, so retrying succeeds while the disk has room).
    #[error("disk full: {0}")]
    DiskFull(String),
    /// An I/O failure: a file that cannot be opened, read or written (also
    /// export and import files), an operating-system error, a SQLite
    /// failure in a [`schema`](crate::schema) migration.
    #[error("I/O error: {0}")]
    Io(String),
    /// The storage or an import file is damaged: not a database, a
    /// malformed record, an LMDB page out of bounds, an import file that
    /// does not follow its format (the message names the byte offset or
    /// line). The operation stopped before trusting the damaged data.
    #[error("corrupt data: {0}")]
    Corrupt(String),
    /// [`Store::transaction`](crate::Store::transaction) or
    /// [`Store::begin`](crate::Store::begin) while a transaction is open
    /// (they do not nest); LMDB: changing the map size inside one.
    #[error("a transaction is already active")]
    TransactionActive,
    /// [`Store::commit`](crate::Store::commit) or
    /// [`Store::abort`](crate::Store::abort) without an open transaction.
    #[error("no transaction is active")]
    NoTransaction,
    /// A write on a store opened or configured read-only
    /// ([`Config::read_only`](crate::Config::read_only)), or storage the
    /// process may not write (`EACCES`, `EROFS`).
    #[error("database is read-only: {0}")]
    ReadOnly(String),
    /// The storage is in use: already open in this process (see
    /// [Engines](crate#engines)), locked by another connection beyond the
    /// busy timeout, an LMDB transaction of another thread, LMDB's reader
    /// table full. Retrying later may succeed.
    #[error("database is locked: {0}")]
    Locked(String),
    /// Memory could not be allocated (by SQLite, LMDB or the system).
    #[error("out of memory: {0}")]
    NoMem(String),
    /// A value beyond the engine's limit (1 000 000 000 bytes), an LMDB
    /// transaction with too many dirty pages, a string too long for SQLite.
    #[error("too big: {0}")]
    TooBig(String),
    /// A SQLite constraint failed (your own tables' constraints, through
    /// the [`schema`](crate::schema) helpers or a trigger).
    #[error("constraint violation: {0}")]
    Constraint(String),
    /// A schema problem: a file opened read-only that is not a kvidxkit
    /// database, an invalid [`schema`](crate::schema) table description, a
    /// migration that controls the transaction (BEGIN, COMMIT, …).
    #[error("schema error: {0}")]
    Schema(String),
    /// C API only: an iterator over a range whose start is above its end.
    /// (Rust ranges that are empty are simply empty.)
    #[error("invalid range: {0}")]
    Range(String),
    /// C API only: a user-supplied engine table lacks the function.
    #[error("not supported: {0}")]
    NotSupported(String),
    /// A progress callback of [`Store::export_to_with_progress`](crate::Store::export_to_with_progress)
    /// or [`Store::import_from_with_progress`](crate::Store::import_from_with_progress)
    /// returned false; nothing of the import was kept, the partial export
    /// file was removed.
    #[error("cancelled: {0}")]
    Cancelled(String),
    /// An unexpected failure inside an engine (an error code no other
    /// variant describes); the message has the engine's own text.
    #[error("internal error: {0}")]
    Internal(String),
    /// The condition of [`Store::insert_ex`](crate::Store::insert_ex) was
    /// not met ([`SetCondition::IfNotExists`](crate::SetCondition::IfNotExists)
    /// and the key is live, or [`SetCondition::IfExists`](crate::SetCondition::IfExists)
    /// and it is not); nothing was written.
    #[error("condition not met: {0}")]
    ConditionFailed(String),
    /// Not returned: kept for the C code `KVIDX_ERROR_EXPIRED`, which the
    /// original declared. An expired key is reported as absent.
    #[error("key {0} has expired")]
    Expired(u64),
}

/// The result of every fallible call: `Result<T, kvidxkit::Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The numeric codes of the C API (`kvidxError`), one per [`Error`]
/// variant ([`Error::code`]); `as u32` gives the C value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    /// `KVIDX_OK`: success (no [`Error`] has it).
    Ok = 0,
    /// [`Error::InvalidArgument`].
    InvalidArgument = 1,
    /// [`Error::DuplicateKey`].
    DuplicateKey = 2,
    /// [`Error::NotFound`].
    NotFound = 3,
    /// [`Error::DiskFull`].
    DiskFull = 4,
    /// [`Error::Io`].
    Io = 5,
    /// [`Error::Corrupt`].
    Corrupt = 6,
    /// [`Error::TransactionActive`].
    TransactionActive = 7,
    /// [`Error::NoTransaction`].
    NoTransaction = 8,
    /// [`Error::ReadOnly`].
    ReadOnly = 9,
    /// [`Error::Locked`].
    Locked = 10,
    /// [`Error::NoMem`].
    NoMem = 11,
    /// [`Error::TooBig`].
    TooBig = 12,
    /// [`Error::Constraint`].
    Constraint = 13,
    /// [`Error::Schema`].
    Schema = 14,
    /// [`Error::Range`].
    Range = 15,
    /// [`Error::NotSupported`].
    NotSupported = 16,
    /// [`Error::Cancelled`].
    Cancelled = 17,
    /// [`Error::Internal`].
    Internal = 99,
    /// [`Error::ConditionFailed`].
    ConditionFailed = 100,
    /// [`Error::Expired`].
    Expired = 101,
}

impl Error {
    /// The C error code of this error.
    pub fn code(&self) -> ErrorCode {
        use Error::*;
        match self {
            InvalidArgument(_) => ErrorCode::InvalidArgument,
            DuplicateKey(_) => ErrorCode::DuplicateKey,
            NotFound(_) => ErrorCode::NotFound,
            DiskFull(_) => ErrorCode::DiskFull,
            Io(_) => ErrorCode::Io,
            Corrupt(_) => ErrorCode::Corrupt,
            TransactionActive => ErrorCode::TransactionActive,
            NoTransaction => ErrorCode::NoTransaction,
            ReadOnly(_) => ErrorCode::ReadOnly,
            Locked(_) => ErrorCode::Locked,
            NoMem(_) => ErrorCode::NoMem,
            TooBig(_) => ErrorCode::TooBig,
            Constraint(_) => ErrorCode::Constraint,
            Schema(_) => ErrorCode::Schema,
            Range(_) => ErrorCode::Range,
            NotSupported(_) => ErrorCode::NotSupported,
            Cancelled(_) => ErrorCode::Cancelled,
            Internal(_) => ErrorCode::Internal,
            ConditionFailed(_) => ErrorCode::ConditionFailed,
            Expired(_) => ErrorCode::Expired,
        }
    }

    pub(crate) fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }

    pub(crate) fn not_found_key(key: u64) -> Self {
        Error::NotFound(format!("key {key} not found"))
    }

    /// The error for a failed system call with `errno`: every "no space"
    /// condition (ENOSPC, EFBIG — a file-size limit —, EDQUOT) is
    /// [`Error::DiskFull`], permissions [`Error::ReadOnly`], memory
    /// [`Error::NoMem`], everything else [`Error::Io`].
    pub(crate) fn from_errno(errno: i32, text: String) -> Self {
        match errno {
            libc::ENOSPC | libc::EFBIG | libc::EDQUOT => Error::DiskFull(text),
            libc::EACCES | libc::EROFS | libc::EPERM => Error::ReadOnly(text),
            libc::ENOMEM => Error::NoMem(text),
            libc::EAGAIN | libc::EBUSY => Error::Locked(text),
            _ => Error::Io(text),
        }
    }

    /// [`Error::from_errno`] for an I/O error, the text prefixed by `what`.
    pub(crate) fn from_io(what: &str, e: &std::io::Error) -> Self {
        let text = format!("{what}: {e}");
        match e.raw_os_error() {
            Some(errno) => Error::from_errno(errno, text),
            None => Error::Io(text),
        }
    }
}

#[cfg(feature = "sqlite")]
impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        use rusqlite::ErrorCode as C;
        match &e {
            rusqlite::Error::SqliteFailure(f, msg) => {
                let text = msg.clone().unwrap_or_else(|| f.to_string());
                match f.code {
                    C::ConstraintViolation => Error::Constraint(text),
                    C::DatabaseBusy | C::DatabaseLocked => Error::Locked(text),
                    C::ReadOnly => Error::ReadOnly(text),
                    C::DiskFull => Error::DiskFull(text),
                    C::SystemIoFailure | C::CannotOpen | C::FileLockingProtocolFailed => Error::Io(text),
                    C::DatabaseCorrupt | C::NotADatabase => Error::Corrupt(text),
                    C::OutOfMemory => Error::NoMem(text),
                    C::TooBig => Error::TooBig(text),
                    C::SchemaChanged => Error::Schema(text),
                    _ => Error::Internal(text),
                }
            }
            rusqlite::Error::SqlInputError { msg, .. } => Error::Internal(msg.clone()),
            other => Error::Internal(other.to_string()),
        }
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        match e.raw_os_error() {
            Some(libc::ENOSPC | libc::EFBIG | libc::EDQUOT) => Error::DiskFull(e.to_string()),
            _ => Error::Io(e.to_string()),
        }
    }
}
