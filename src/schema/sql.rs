//! SQL text generated from table descriptions, byte for byte the original's
//! output (primitives.md §6.3, §6.5) for ordinary descriptions.
//!
//! Differences from the original (prim D18), all documented here:
//! * Every generator validates its description first ([`Table::validate`];
//!   [`Column::validate_type`] for a lone column type) and fails instead of
//!   producing broken SQL.
//! * Text defaults are SQL string literals with `'` doubled: `'it''s'`.
//! * Identifiers are written as they are when they are *ordinary*: an ASCII
//!   letter or `_`, then ASCII letters, digits or `_`, and not an SQLite
//!   keyword. Any other identifier is written as a double-quoted identifier
//!   with `"` doubled (`"order"`, `"my table"`, `"a""b"`). Ordinary names
//!   therefore give exactly the original's text, and no name can break or
//!   inject into the statement. A referenced table may carry a column list,
//!   `users(id)`, which is kept as written when all its names are ordinary
//!   and otherwise rebuilt from quoted parts.
//! * A DEFAULT expression (`KVIDX_DEFAULT_EXPR`) is SQL by definition and is
//!   written verbatim, as in the original.

use std::borrow::Cow;
use std::fmt::Write;

use super::desc::{ColType, Column, DefaultValue, Table};
use crate::error::{Error, Result};

/// True for an identifier SQLite reads as itself without quotes and that is
/// not a keyword.
fn is_ordinary(s: &str) -> bool {
    is_plain_word(s) && !is_keyword(s)
}

fn is_plain_word(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_alphabetic() || b[0] == b'_')
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_')
}

fn is_keyword(s: &str) -> bool {
    // SAFETY: sqlite3_keyword_check reads exactly `len` bytes of `s`; it needs
    // no connection and no initialisation.
    unsafe { libsqlite3_sys::sqlite3_keyword_check(s.as_ptr().cast(), s.len() as std::ffi::c_int) != 0 }
}

/// `s` as an SQL identifier: unchanged when ordinary, else double-quoted.
pub fn quote_ident(s: &str) -> Cow<'_, str> {
    if is_ordinary(s) { Cow::Borrowed(s) } else { Cow::Owned(format!("\"{}\"", s.replace('"', "\"\""))) }
}

/// `s` as an SQL string literal: `'` + text with `'` doubled + `'`.
pub fn quote_text(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

/// The referenced table of a REFERENCES clause: `table` or `table(col, …)`.
fn reference(r: &str) -> Cow<'_, str> {
    if let Some(open) = r.find('(')
        && let Some(inner) = r[open + 1..].strip_suffix(')')
    {
        let table = r[..open].trim();
        let cols: Vec<&str> = inner.split(',').map(str::trim).collect();
        if is_plain_word(table) && cols.iter().all(|c| is_plain_word(c)) {
            if is_ordinary(table) && cols.iter().all(|c| is_ordinary(c)) {
                return Cow::Borrowed(r);
            }
            let cols: Vec<Cow<str>> = cols.into_iter().map(quote_ident).collect();
            return Cow::Owned(format!("{}({})", quote_ident(table), cols.join(", ")));
        }
    }
    quote_ident(r)
}

/// C's `printf("%g", v)` in the "C" locale: 6 significant digits, `%e` style
/// below 1e-4 or from 1e6 on, trailing zeros removed.
pub fn format_g(v: f64) -> String {
    if v.is_nan() {
        return if v.is_sign_negative() { "-nan" } else { "nan" }.into();
    }
    if v.is_infinite() {
        return if v < 0.0 { "-inf" } else { "inf" }.into();
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0" } else { "0" }.into();
    }
    const P: i32 = 6;
    // The exponent C uses is the one of the value rounded to P digits.
    let e_form = format!("{:.*e}", (P - 1) as usize, v);
    let (mant, exp) = e_form.split_once('e').expect("exponent form");
    let x: i32 = exp.parse().expect("exponent");
    fn trim(s: &str) -> &str {
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.') } else { s }
    }
    if (-4..P).contains(&x) {
        let f = format!("{:.*}", (P - 1 - x) as usize, v);
        trim(&f).to_string()
    } else {
        let sign = if x < 0 { '-' } else { '+' };
        format!("{}e{sign}{:02}", trim(mant), x.abs())
    }
}

fn schema_err(what: &str) -> Error {
    Error::Schema(what.to_string())
}

/// The type part of a column definition (`kvidxGenColTypeSql`), e.g.
/// `INTEGER PRIMARY KEY AUTOINCREMENT` or `TEXT NOT NULL DEFAULT 'x'`.
pub fn column_type_sql(col: &Column) -> Result<String> {
    col.validate_type()?;
    let t = col.ty;
    let mut parts: Vec<Cow<str>> = Vec::new();
    for (flag, text) in [
        (ColType::INTEGER, "INTEGER"),
        (ColType::TEXT, "TEXT"),
        (ColType::BLOB, "BLOB"),
        (ColType::REAL, "REAL"),
        (ColType::PRIMARY_KEY, "PRIMARY KEY"),
        (ColType::AUTOINCREMENT, "AUTOINCREMENT"),
        (ColType::NOT_NULL, "NOT NULL"),
        (ColType::UNIQUE, "UNIQUE"),
    ] {
        if t.contains(flag) {
            parts.push(text.into());
        }
    }
    if t.contains(ColType::REFERENCES) {
        let r = col.ref_table.as_deref().unwrap_or_default();
        parts.push(format!("REFERENCES {}", reference(r)).into());
    }
    if t.contains(ColType::CASCADE_DELETE) {
        parts.push("ON DELETE CASCADE".into());
    }
    if t.contains(ColType::DEFERRED) {
        parts.push("DEFERRABLE INITIALLY DEFERRED".into());
    }
    if t.contains(ColType::HAS_DEFAULT) {
        let v: Cow<str> = match &col.default {
            DefaultValue::None => return Err(schema_err("HAS_DEFAULT without a default value")),
            DefaultValue::Null => "NULL".into(),
            DefaultValue::Int(i) => i.to_string().into(),
            DefaultValue::Real(r) => format_g(*r).into(),
            DefaultValue::Text(s) => quote_text(s).into(),
            DefaultValue::Expr(e) => e.as_str().into(),
        };
        parts.push(format!("DEFAULT {v}").into());
    }
    Ok(parts.join(" "))
}

/// `CREATE TABLE IF NOT EXISTS <t> (<col> <type>, …)[ WITHOUT ROWID];`
pub fn create_table_sql(t: &Table) -> Result<String> {
    t.validate()?;
    let mut s = format!("CREATE TABLE IF NOT EXISTS {} (", quote_ident(&t.name));
    for (n, c) in t.columns.iter().enumerate() {
        if n > 0 {
            s.push_str(", ");
        }
        let _ = write!(s, "{} {}", quote_ident(&c.name), column_type_sql(c)?);
    }
    s.push(')');
    if t.without_rowid {
        s.push_str(" WITHOUT ROWID");
    }
    s.push(';');
    Ok(s)
}

/// One `CREATE [UNIQUE ]INDEX IF NOT EXISTS <name> ON <t> (<cols>);` per
/// index, separated by `\n`; empty when the table has no index.
pub fn create_indexes_sql(t: &Table) -> Result<String> {
    t.validate()?;
    let table = quote_ident(&t.name);
    let mut out = Vec::with_capacity(t.indexes.len());
    for ix in &t.indexes {
        let name = match &ix.name {
            Some(n) => n.clone(),
            None => format!("{}_{}_idx", t.name, ix.columns.join("_")),
        };
        let cols: Vec<Cow<str>> = ix.columns.iter().map(|c| quote_ident(c)).collect();
        out.push(format!(
            "CREATE {}INDEX IF NOT EXISTS {} ON {table} ({});",
            if ix.unique { "UNIQUE " } else { "" },
            quote_ident(&name),
            cols.join(", ")
        ));
    }
    Ok(out.join("\n"))
}

fn names(t: &Table) -> Vec<Cow<'_, str>> {
    t.columns.iter().map(|c| quote_ident(&c.name)).collect()
}

/// `INSERT INTO <t> (<c0>, <c1>, …) VALUES (?, ?, …);`
pub fn insert_sql(t: &Table) -> Result<String> {
    t.validate()?;
    let cols = names(t);
    Ok(format!(
        "INSERT INTO {} ({}) VALUES ({});",
        quote_ident(&t.name),
        cols.join(", "),
        vec!["?"; cols.len()].join(", ")
    ))
}

/// `SELECT * FROM <t> WHERE <c0> = ?;`
pub fn select_by_id_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("SELECT * FROM {} WHERE {} = ?;", quote_ident(&t.name), quote_ident(&t.columns[0].name)))
}

/// `SELECT * FROM <t>;`
pub fn select_all_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("SELECT * FROM {};", quote_ident(&t.name)))
}

/// `UPDATE <t> SET <c1> = ?, <c2> = ?, … WHERE <c0> = ?;` (needs two columns)
pub fn update_by_id_sql(t: &Table) -> Result<String> {
    t.validate()?;
    if t.columns.len() < 2 {
        return Err(Error::Schema(format!("table {:?}: an update needs a column besides the id", t.name)));
    }
    let cols = names(t);
    let set: Vec<String> = cols[1..].iter().map(|c| format!("{c} = ?")).collect();
    Ok(format!("UPDATE {} SET {} WHERE {} = ?;", quote_ident(&t.name), set.join(", "), cols[0]))
}

/// `DELETE FROM <t> WHERE <c0> = ?;`
pub fn delete_by_id_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("DELETE FROM {} WHERE {} = ?;", quote_ident(&t.name), quote_ident(&t.columns[0].name)))
}

/// `SELECT COUNT(*) FROM <t>;`
pub fn count_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("SELECT COUNT(*) FROM {};", quote_ident(&t.name)))
}

/// `SELECT MAX(<c0>) FROM <t>;`
pub fn max_id_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("SELECT MAX({}) FROM {};", quote_ident(&t.columns[0].name), quote_ident(&t.name)))
}

/// `SELECT MIN(<c0>) FROM <t>;`
pub fn min_id_sql(t: &Table) -> Result<String> {
    t.validate()?;
    Ok(format!("SELECT MIN({}) FROM {};", quote_ident(&t.columns[0].name), quote_ident(&t.name)))
}
