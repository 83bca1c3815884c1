//! Table, column and index descriptions (the safe counterparts of
//! `kvidxTableDef`, `kvidxColDef` and `kvidxIndexDef`) and their validation.
//!
//! Validation follows the original's `kvidxColDefIsValid` /
//! `kvidxTableDefIsValid` (primitives.md §6.4) and adds the checks whose
//! absence made the original generate broken SQL or crash (prim D18):
//! a TEXT or EXPR default needs its text, an EXPR default must not be empty,
//! a REAL default must be finite, an explicit index name must not be empty.

use std::ops::{BitOr, BitOrAssign};

use crate::error::{Error, Result};

/// Column flags: the bits of the C `kvidxColType`, combined with `|`.
/// Exactly one base type (INTEGER, TEXT, BLOB, REAL) makes a valid column.
/// (Rust only; the C header has `kvidxColType`.)
/// cbindgen:no-export
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ColType(pub u32);

impl ColType {
    /// Base type `INTEGER`.
    pub const INTEGER: ColType = ColType(1);
    /// Base type `TEXT`.
    pub const TEXT: ColType = ColType(2);
    /// Base type `BLOB`.
    pub const BLOB: ColType = ColType(4);
    /// Base type `REAL`.
    pub const REAL: ColType = ColType(8);
    /// `PRIMARY KEY`
    pub const PRIMARY_KEY: ColType = ColType(16);
    /// `NOT NULL`
    pub const NOT_NULL: ColType = ColType(32);
    /// `UNIQUE`
    pub const UNIQUE: ColType = ColType(64);
    /// `AUTOINCREMENT` (needs `INTEGER PRIMARY KEY`)
    pub const AUTOINCREMENT: ColType = ColType(128);
    /// `REFERENCES <refTable>`
    pub const REFERENCES: ColType = ColType(256);
    /// `ON DELETE CASCADE` (needs REFERENCES)
    pub const CASCADE_DELETE: ColType = ColType(512);
    /// `DEFERRABLE INITIALLY DEFERRED` (needs REFERENCES)
    pub const DEFERRED: ColType = ColType(1024);
    /// `DEFAULT <value>`
    pub const HAS_DEFAULT: ColType = ColType(2048);

    /// The base-type bits (`KVIDX_COL_BASE_TYPE_MASK`).
    pub const BASE_TYPE_MASK: ColType = ColType(15);
    /// `INTEGER PRIMARY KEY` (`KVIDX_COL_PK`)
    pub const PK: ColType = ColType(17);
    /// `INTEGER PRIMARY KEY AUTOINCREMENT` (`KVIDX_COL_PK_AUTO`)
    pub const PK_AUTO: ColType = ColType(145);
    /// `INTEGER REFERENCES …` (`KVIDX_COL_FK`)
    pub const FK: ColType = ColType(257);
    /// `KVIDX_COL_FK_CASCADE`
    pub const FK_CASCADE: ColType = ColType(769);
    /// `KVIDX_COL_FK_CASCADE_DEFERRED`
    pub const FK_CASCADE_DEFERRED: ColType = ColType(1793);

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// True if every bit of `other` is set.
    pub const fn contains(self, other: ColType) -> bool {
        self.0 & other.0 == other.0
    }
}

impl BitOr for ColType {
    type Output = ColType;
    fn bitor(self, rhs: ColType) -> ColType {
        ColType(self.0 | rhs.0)
    }
}

impl BitOrAssign for ColType {
    fn bitor_assign(&mut self, rhs: ColType) {
        self.0 |= rhs.0;
    }
}

/// A column's default value. It is written only when the column's type has
/// [`ColType::HAS_DEFAULT`] (as in the original, where `defaultKind` is
/// ignored without that flag).
#[derive(Clone, Debug, PartialEq)]
pub enum DefaultValue {
    /// No default (`KVIDX_DEFAULT_NONE`)
    None,
    /// `DEFAULT NULL`
    Null,
    /// `DEFAULT <integer>` (INTEGER columns)
    Int(i64),
    /// `DEFAULT <%g of the value>` (REAL columns; must be finite)
    Real(f64),
    /// `DEFAULT '<text>'`, quotes doubled (TEXT columns)
    Text(String),
    /// `DEFAULT <expression>`, written verbatim (any column type)
    Expr(String),
}

/// One column (the C `kvidxColDef`).
#[derive(Clone, Debug, PartialEq)]
pub struct Column {
    /// The column name (quoted in SQL when it is not an ordinary
    /// identifier).
    pub name: String,
    /// Base type and constraints.
    pub ty: ColType,
    /// The referenced table (`"users"` or `"users(id)"`), used with REFERENCES
    pub ref_table: Option<String>,
    /// The default value, used with [`ColType::HAS_DEFAULT`].
    pub default: DefaultValue,
}

impl Column {
    /// `COL(name, type)`.
    pub fn new(name: impl Into<String>, ty: ColType) -> Column {
        Column { name: name.into(), ty, ref_table: None, default: DefaultValue::None }
    }

    /// `COL_FK(name, type, refTable)`: adds REFERENCES.
    pub fn foreign_key(name: impl Into<String>, ty: ColType, ref_table: impl Into<String>) -> Column {
        Column {
            name: name.into(),
            ty: ty | ColType::REFERENCES,
            ref_table: Some(ref_table.into()),
            default: DefaultValue::None,
        }
    }

    /// `COL_DEFAULT_*(name, type, value)`: adds HAS_DEFAULT.
    pub fn with_default(name: impl Into<String>, ty: ColType, default: DefaultValue) -> Column {
        Column { name: name.into(), ty: ty | ColType::HAS_DEFAULT, ref_table: None, default }
    }

    /// Checks the column (`kvidxColDefIsValid`); the error names the rule broken.
    pub fn validate(&self) -> Result<()> {
        if self.name.is_empty() {
            return Err(Error::Schema("a column has an empty name".into()));
        }
        self.validate_type().map_err(|e| Error::Schema(format!("column {:?}: {}", self.name, msg(&e))))
    }

    /// True if [`Column::validate`] accepts the column.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }

    /// Every rule except the name's (what `kvidxGenColTypeSql` needs).
    pub(crate) fn validate_type(&self) -> Result<()> {
        let t = self.ty;
        let bad = |m: &str| Err(Error::Schema(m.to_string()));
        let base = (t.0 & ColType::BASE_TYPE_MASK.0).count_ones();
        if base != 1 {
            return bad("exactly one of INTEGER, TEXT, BLOB, REAL is required");
        }
        if t.contains(ColType::AUTOINCREMENT) && !t.contains(ColType::PK) {
            return bad("AUTOINCREMENT needs INTEGER PRIMARY KEY");
        }
        if t.contains(ColType::REFERENCES) && self.ref_table.as_deref().is_none_or(str::is_empty) {
            return bad("REFERENCES needs a referenced table");
        }
        if (t.contains(ColType::CASCADE_DELETE) || t.contains(ColType::DEFERRED)) && !t.contains(ColType::REFERENCES) {
            return bad("ON DELETE CASCADE and DEFERRABLE need REFERENCES");
        }
        if t.contains(ColType::HAS_DEFAULT) {
            match &self.default {
                DefaultValue::None => return bad("HAS_DEFAULT without a default value"),
                DefaultValue::Null if t.contains(ColType::NOT_NULL) => {
                    return bad("DEFAULT NULL on a NOT NULL column");
                }
                DefaultValue::Int(_) if !t.contains(ColType::INTEGER) => {
                    return bad("an integer default needs an INTEGER column");
                }
                DefaultValue::Real(v) => {
                    if !t.contains(ColType::REAL) {
                        return bad("a real default needs a REAL column");
                    }
                    if !v.is_finite() {
                        return bad("a real default must be finite");
                    }
                }
                DefaultValue::Text(_) if !t.contains(ColType::TEXT) => {
                    return bad("a text default needs a TEXT column");
                }
                DefaultValue::Expr(e) if e.trim().is_empty() => {
                    return bad("an expression default is empty");
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// One index (the C `kvidxIndexDef`). Without a name it is called
/// `<table>_<col1>_<col2>…_idx`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Index {
    /// The index name (`None`: derived from the table and columns).
    pub name: Option<String>,
    /// `CREATE UNIQUE INDEX`.
    pub unique: bool,
    /// The indexed columns, in order; each must be a column of the table.
    pub columns: Vec<String>,
}

impl Index {
    fn make<S: Into<String>>(name: Option<String>, unique: bool, cols: impl IntoIterator<Item = S>) -> Index {
        Index { name, unique, columns: cols.into_iter().map(Into::into).collect() }
    }

    /// `INDEX(col, …)`.
    pub fn new<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Index {
        Index::make(None, false, columns)
    }

    /// `INDEX_UNIQUE(col, …)`.
    pub fn unique<S: Into<String>>(columns: impl IntoIterator<Item = S>) -> Index {
        Index::make(None, true, columns)
    }

    /// `INDEX_NAMED(name, col, …)`.
    pub fn named<S: Into<String>>(name: impl Into<String>, columns: impl IntoIterator<Item = S>) -> Index {
        Index::make(Some(name.into()), false, columns)
    }

    /// `INDEX_UNIQUE_NAMED(name, col, …)`.
    pub fn unique_named<S: Into<String>>(name: impl Into<String>, columns: impl IntoIterator<Item = S>) -> Index {
        Index::make(Some(name.into()), true, columns)
    }
}

/// One table (the C `kvidxTableDef`): what [`create_tables`](super::create_tables)
/// creates and the `*_sql` generators describe.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// The table name.
    pub name: String,
    /// The columns, in order (at least one).
    pub columns: Vec<Column>,
    /// Indexes created with the table.
    pub indexes: Vec<Index>,
    /// `WITHOUT ROWID`.
    pub without_rowid: bool,
}

impl Table {
    /// A table of `columns`, without indexes.
    pub fn new(name: impl Into<String>, columns: Vec<Column>) -> Table {
        Table { name: name.into(), columns, indexes: Vec::new(), without_rowid: false }
    }

    /// Adds indexes.
    pub fn with_indexes(mut self, indexes: Vec<Index>) -> Table {
        self.indexes = indexes;
        self
    }

    /// Sets `WITHOUT ROWID`.
    pub fn without_rowid(mut self) -> Table {
        self.without_rowid = true;
        self
    }

    /// Checks the table (`kvidxTableDefIsValid`); the error names the rule broken.
    pub fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Schema(format!("table {:?}: {m}", self.name)));
        if self.name.is_empty() {
            return Err(Error::Schema("a table has an empty name".into()));
        }
        if self.columns.is_empty() {
            return bad("no columns".into());
        }
        for c in &self.columns {
            if let Err(e) = c.validate() {
                return bad(msg(&e).to_string());
            }
        }
        for (n, ix) in self.indexes.iter().enumerate() {
            if ix.name.as_deref() == Some("") {
                return bad(format!("index {n} has an empty name"));
            }
            if ix.columns.is_empty() {
                return bad(format!("index {n} has no columns"));
            }
            if let Some(c) = ix.columns.iter().find(|c| !self.columns.iter().any(|d| d.name == **c)) {
                return bad(format!("index {n} names the unknown column {c:?}"));
            }
        }
        Ok(())
    }

    /// True if [`Table::validate`] accepts the table.
    pub fn is_valid(&self) -> bool {
        self.validate().is_ok()
    }
}

/// The text of a schema error without the "schema error: " prefix.
fn msg(e: &Error) -> &str {
    match e {
        Error::Schema(m) => m,
        _ => "invalid",
    }
}
