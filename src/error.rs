//! The one error type of the safe core, and its mapping to `kvidxError` codes.

/// Everything that can go wrong in the library. Each variant maps to exactly
/// one C error code ([`Error::code`]); the text is what `kvidxGetLastErrorMessage`
/// shows after the operation name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    #[error("key {0} already exists")]
    DuplicateKey(u64),
    #[error("{0}")]
    NotFound(String),
    #[error("disk full: {0}")]
    DiskFull(String),
    #[error("I/O error: {0}")]
    Io(String),
    #[error("corrupt data: {0}")]
    Corrupt(String),
    #[error("a transaction is already active")]
    TransactionActive,
    #[error("no transaction is active")]
    NoTransaction,
    #[error("database is read-only: {0}")]
    ReadOnly(String),
    #[error("database is locked: {0}")]
    Locked(String),
    #[error("out of memory: {0}")]
    NoMem(String),
    #[error("too big: {0}")]
    TooBig(String),
    #[error("constraint violation: {0}")]
    Constraint(String),
    #[error("schema error: {0}")]
    Schema(String),
    #[error("invalid range: {0}")]
    Range(String),
    #[error("not supported: {0}")]
    NotSupported(String),
    #[error("cancelled: {0}")]
    Cancelled(String),
    #[error("internal error: {0}")]
    Internal(String),
    #[error("condition not met: {0}")]
    ConditionFailed(String),
    #[error("key {0} has expired")]
    Expired(u64),
}

/// Result type of the safe API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The numeric codes of the C API (`kvidxError`), usable from Rust.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u32)]
pub enum ErrorCode {
    Ok = 0,
    InvalidArgument = 1,
    DuplicateKey = 2,
    NotFound = 3,
    DiskFull = 4,
    Io = 5,
    Corrupt = 6,
    TransactionActive = 7,
    NoTransaction = 8,
    ReadOnly = 9,
    Locked = 10,
    NoMem = 11,
    TooBig = 12,
    Constraint = 13,
    Schema = 14,
    Range = 15,
    NotSupported = 16,
    Cancelled = 17,
    Internal = 99,
    ConditionFailed = 100,
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
