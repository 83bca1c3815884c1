//! The ceiling for the SQLite3 engine: the same operations done directly
//! with rusqlite on the same schema, with the settings of a plain
//! kvidxOpen (src/engines/sqlite.rs: VFS "unix-excl", page_size 8192,
//! journal_mode WAL, cache_size -31250, recursive_triggers ON,
//! synchronous FULL) and statements prepared once per run.

use std::hint::black_box;
use std::path::Path;
use std::time::Instant;

use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags, params};

use crate::export::{BINARY, BinReader, BinWriter, XEnv, XSample};
use crate::harness::{
    APPEND_BASE, APPEND_LEN, BATCH, DELETE_COMMIT, Env, INSERT_COMMIT, LARGE_COMMIT, MIXED_COMMIT, Sample, Timer,
    remove_db, timed_passes,
};
use crate::kv::{FAR_TTL_MS, TERM, build_append, build_expired, build_half, build_large};

/// The table every kvidxkit SQLite3 database has (the other tables of the
/// kvidxkit schema are created too, so both sides' files look alike).
const SCHEMA: &str = "\
CREATE TABLE IF NOT EXISTS controlBlock (id INTEGER PRIMARY KEY, what TEXT, how TEXT);
CREATE INDEX IF NOT EXISTS controlBlock_what_idx ON controlBlock (what);
CREATE TABLE IF NOT EXISTS log (id INTEGER PRIMARY KEY, created INTEGER, term INTEGER, cmd INTEGER, data BLOB);
CREATE TABLE IF NOT EXISTS _kvidx_ttl (id INTEGER PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS _kvidx_ttl_expires ON _kvidx_ttl(expires_at);";

const INSERT: &str = "INSERT INTO log (id, created, term, cmd, data) VALUES (?1, 0, ?2, ?3, ?4)";
const GET: &str = "SELECT term, cmd, data FROM log WHERE id = ?1";
const SCAN: &str = "SELECT id, term, cmd, data FROM log ORDER BY id";
const COUNT: &str = "SELECT COUNT(*) FROM log WHERE id BETWEEN ?1 AND ?2";
const DELETE: &str = "DELETE FROM log WHERE id = ?1";
/// "The entry after k", as a careful SQLite user writes it.
const NEXT: &str = "SELECT id, term, cmd, data FROM log WHERE id > ?1 ORDER BY id LIMIT 1";
const UPDATE: &str = "UPDATE log SET term = ?2, cmd = ?3, data = ?4 WHERE id = ?1";
const GET_DATA: &str = "SELECT data FROM log WHERE id = ?1";
const UPDATE_DATA: &str = "UPDATE log SET data = ?2 WHERE id = ?1";
const TTL_PUT: &str = "INSERT OR REPLACE INTO _kvidx_ttl (id, expires_at) VALUES (?1, ?2)";
const TTL_DELETE: &str = "DELETE FROM _kvidx_ttl WHERE id = ?1";

pub fn open(path: &Path) -> Connection {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_CREATE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let c = Connection::open_with_flags_and_vfs(path, flags, c"unix-excl").expect("open");
    c.busy_timeout(std::time::Duration::ZERO).unwrap();
    c.pragma_update(None, "page_size", 8192).unwrap();
    let mode: String = c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0)).unwrap();
    assert!(mode.eq_ignore_ascii_case("wal"), "journal_mode {mode}");
    c.pragma_update(None, "cache_size", -31250).unwrap();
    c.pragma_update(None, "recursive_triggers", "ON").unwrap();
    c.pragma_update(None, "synchronous", "FULL").unwrap();
    c.execute_batch(SCHEMA).unwrap();
    c
}

fn insert_all(c: &Connection, env: &Env, keys: &mut dyn Iterator<Item = u64>) -> u64 {
    let v = env.value.as_slice();
    c.execute("BEGIN", []).unwrap();
    let mut n = 0;
    {
        let mut stmt = c.prepare(INSERT).unwrap();
        for k in keys {
            let changed = stmt.execute(params![k as i64, TERM as i64, (k & 0xff) as i64, v]).unwrap();
            assert_eq!(changed, 1);
            n += 1;
        }
    }
    c.execute("COMMIT", []).unwrap();
    n
}

fn write_rows(env: &Env, keys: &mut dyn Iterator<Item = u64>) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let c = open(&path);
        let t = Timer::start();
        let n = insert_all(&c, env, keys);
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn seq_insert(env: &Env) -> Sample {
    write_rows(env, &mut (1..=env.n))
}

pub fn rand_insert(env: &Env) -> Sample {
    write_rows(env, &mut env.rand_insert_keys.iter().copied())
}

fn get_all(c: &Connection, keys: &mut dyn Iterator<Item = u64>) -> u64 {
    let mut stmt = c.prepare(GET).unwrap();
    let mut n = 0u64;
    let mut sink = 0u64;
    for k in keys {
        let mut rows = stmt.query([k as i64]).unwrap();
        let row = rows.next().unwrap().expect("key exists");
        let term = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
        let cmd = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
        let data = match row.get_ref(2).unwrap() {
            ValueRef::Blob(b) => b,
            other => panic!("value is {other:?}"),
        };
        sink = sink.wrapping_add(term ^ cmd ^ data.len() as u64 ^ data[0] as u64);
        n += 1;
    }
    black_box(sink);
    n
}

pub fn seq_read(env: &Env) -> Sample {
    let c = open(env.read_db());
    let t = Timer::start();
    let n = get_all(&c, &mut (1..=env.n));
    t.stop(n)
}

pub fn rand_read(env: &Env) -> Sample {
    let c = open(env.read_db());
    let t = Timer::start();
    let n = get_all(&c, &mut env.rand_read_keys.iter().copied());
    t.stop(n)
}

pub fn iter_scan(env: &Env) -> Sample {
    let c = open(env.read_db());
    let mut sink = 0u64;
    let s = timed_passes(|| {
        let mut n = 0u64;
        let mut stmt = c.prepare_cached(SCAN).unwrap();
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let key = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
            let term = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
            let cmd = row.get_ref(2).unwrap().as_i64().unwrap() as u64;
            let data = row.get_ref(3).unwrap().as_blob().unwrap();
            sink = sink.wrapping_add(key ^ term ^ cmd ^ data.len() as u64 ^ data[0] as u64);
            n += 1;
        }
        assert_eq!(n, env.n);
        n
    });
    black_box(sink);
    s
}

pub fn range_count(env: &Env) -> Sample {
    let c = open(env.read_db());
    let t = Timer::start();
    let mut total = 0u64;
    {
        let mut stmt = c.prepare(COUNT).unwrap();
        for &(a, b) in &env.ranges {
            let n: i64 = stmt.query_row(params![a as i64, b as i64], |r| r.get(0)).unwrap();
            total += n as u64;
        }
    }
    let s = t.stop(env.ranges.len() as u64);
    assert_eq!(total, env.ranges.len() as u64 * env.range_width);
    s
}

pub fn delete(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_raw, "raw-del");
    let s = {
        let c = open(&path);
        let t = Timer::start();
        c.execute("BEGIN", []).unwrap();
        {
            let mut stmt = c.prepare(DELETE).unwrap();
            for k in 1..=env.n {
                assert_eq!(stmt.execute([k as i64]).unwrap(), 1);
            }
        }
        c.execute("COMMIT", []).unwrap();
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// The original's rows (kvidxkit 0.8 src/kvidxkit-bench.c): the same
// operations, transactions and commit cadence, statements prepared before
// the clock.

/// `keys` inserted with `value`, `every` per BEGIN .. COMMIT.
fn insert_every(c: &Connection, keys: &mut dyn Iterator<Item = u64>, value: &[u8], every: u64) -> u64 {
    let mut stmt = c.prepare_cached(INSERT).unwrap();
    let mut n = 0;
    c.execute_batch("BEGIN").unwrap();
    for k in keys {
        assert_eq!(stmt.execute(params![k as i64, TERM as i64, (k & 0xff) as i64, value]).unwrap(), 1);
        n += 1;
        if n % every == 0 {
            c.execute_batch("COMMIT; BEGIN").unwrap();
        }
    }
    c.execute_batch("COMMIT").unwrap();
    n
}

fn write_every(env: &Env, keys: &mut dyn Iterator<Item = u64>, value: &[u8], every: u64) -> Sample {
    let path = env.fresh("raw-ins");
    let s = {
        let c = open(&path);
        c.prepare_cached(INSERT).unwrap();
        let t = Timer::start();
        let n = insert_every(&c, keys, value, every);
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn seq_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, INSERT_COMMIT)
}

pub fn rand_insert_10k(env: &Env) -> Sample {
    write_every(env, &mut env.rand_insert_keys.iter().copied(), &env.value, INSERT_COMMIT)
}

pub fn mixed(env: &Env) -> Sample {
    let (_, tmpl) = env.template("half", build_half);
    let path = env.fresh_copy(&tmpl, "raw-mixed");
    let s = {
        let c = open(&path);
        let mut get = c.prepare_cached(GET).unwrap();
        let mut ins = c.prepare_cached(INSERT).unwrap();
        let v = env.value.as_slice();
        let mut next = env.mixed_base + 1;
        let mut sink = 0u64;
        let t = Timer::start();
        for chunk in env.mixed_ops.chunks(MIXED_COMMIT as usize) {
            c.execute_batch("BEGIN").unwrap();
            for &k in chunk {
                if k == 0 {
                    assert_eq!(ins.execute(params![next as i64, TERM as i64, (next & 0xff) as i64, v]).unwrap(), 1);
                    next += 1;
                } else {
                    let mut rows = get.query([k as i64]).unwrap();
                    let row = rows.next().unwrap().expect("key exists");
                    let term = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
                    let cmd = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
                    let data = row.get_ref(2).unwrap().as_blob().unwrap();
                    sink = sink.wrapping_add(term ^ cmd ^ data.len() as u64 ^ data[0] as u64);
                }
            }
            c.execute_batch("COMMIT").unwrap();
        }
        let s = t.stop(env.mixed_ops.len() as u64);
        black_box(sink);
        s
    };
    remove_db(&path);
    s
}

/// One BEGIN .. COMMIT of BATCH inserts per kvidxInsertBatch call.
pub fn batch_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.n), &env.value, BATCH as u64)
}

pub fn wide_count(env: &Env) -> Sample {
    let c = open(env.read_db());
    let mut stmt = c.prepare(COUNT).unwrap();
    timed_passes(|| {
        let mut total = 0u64;
        for &(a, b) in &env.wide_ranges {
            let n: i64 = stmt.query_row(params![a as i64, b as i64], |r| r.get(0)).unwrap();
            total += n as u64;
        }
        assert_eq!(total, env.wide_total);
        env.wide_ranges.len() as u64
    })
}

/// One `SELECT .. WHERE id > ?1 ORDER BY id LIMIT 1` per entry.
pub fn getnext_scan(env: &Env) -> Sample {
    let c = open(env.read_db());
    let mut stmt = c.prepare(NEXT).unwrap();
    let t = Timer::start();
    let (mut n, mut sink, mut key) = (0u64, 0u64, 0u64);
    loop {
        let mut rows = stmt.query([key as i64]).unwrap();
        let Some(row) = rows.next().unwrap() else { break };
        let next = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
        let term = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
        let cmd = row.get_ref(2).unwrap().as_i64().unwrap() as u64;
        let data = row.get_ref(3).unwrap().as_blob().unwrap();
        sink = sink.wrapping_add(next ^ term ^ cmd ^ data.len() as u64 ^ data[0] as u64);
        key = next;
        n += 1;
    }
    let s = t.stop(n);
    black_box(sink);
    assert_eq!(n, env.n);
    s
}

pub fn large_insert(env: &Env) -> Sample {
    write_every(env, &mut (1..=env.large_n), &env.large_value, LARGE_COMMIT)
}

/// The prepared SELECT by id for every key of the large-value template,
/// autocommit (one implicit read transaction per statement, as kvidxGet
/// outside a transaction).
pub fn large_read(env: &Env) -> Sample {
    let tmpl = env.read_template("large", build_large);
    let c = open(&tmpl);
    let mut stmt = c.prepare(GET).unwrap();
    let mut sink = 0u64;
    let t = Timer::start();
    for &k in &env.large_read_keys {
        let mut rows = stmt.query([k as i64]).unwrap();
        let row = rows.next().unwrap().expect("key exists");
        let term = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
        let cmd = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
        let data = row.get_ref(2).unwrap().as_blob().unwrap();
        sink = sink.wrapping_add(term ^ cmd ^ data.len() as u64 ^ data[0] as u64 ^ data[data.len() - 1] as u64);
    }
    let s = t.stop(env.large_read_keys.len() as u64);
    black_box(sink);
    s
}

pub fn delete_chunked(env: &Env) -> Sample {
    let path = env.fresh_copy(&env.populated_raw, "raw-del");
    let s = {
        let c = open(&path);
        let mut stmt = c.prepare_cached(DELETE).unwrap();
        let t = Timer::start();
        let mut key = 1u64;
        while key <= env.n {
            let last = (key + DELETE_COMMIT - 1).min(env.n);
            c.execute_batch("BEGIN").unwrap();
            for k in key..=last {
                assert_eq!(stmt.execute([k as i64]).unwrap(), 1);
            }
            c.execute_batch("COMMIT").unwrap();
            key = last + 1;
        }
        t.stop(env.n)
    };
    remove_db(&path);
    s
}

// ----------------------------------------------------------------------
// Storage primitives: the same work in one transaction, statements
// prepared once (prepare_cached), no savepoints.

/// Opens a fresh copy of `template`, times `body` between BEGIN and COMMIT.
fn in_txn(env: &Env, template: &Path, body: &mut dyn FnMut(&Connection) -> u64) -> Sample {
    let path = env.fresh_copy(template, "raw-prim");
    let s = {
        let c = open(&path);
        // Prepared before the clock starts, as kvidxkit's are at open.
        for sql in [GET, GET_DATA, UPDATE, UPDATE_DATA, TTL_PUT, TTL_DELETE, DELETE] {
            c.prepare_cached(sql).unwrap();
        }
        let t = Timer::start();
        c.execute_batch("BEGIN").unwrap();
        let n = body(&c);
        c.execute_batch("COMMIT").unwrap();
        t.stop(n)
    };
    remove_db(&path);
    s
}

pub fn get_and_set(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |c| {
        let mut get = c.prepare_cached(GET).unwrap();
        let mut upd = c.prepare_cached(UPDATE).unwrap();
        let mut old: Vec<u8> = Vec::new();
        let mut sink = 0u64;
        for &k in &env.prim_keys {
            let (term, cmd) = {
                let mut rows = get.query([k as i64]).unwrap();
                let row = rows.next().unwrap().expect("key exists");
                old.clear();
                old.extend_from_slice(row.get_ref(2).unwrap().as_blob().unwrap());
                (row.get_ref(0).unwrap().as_i64().unwrap() as u64, row.get_ref(1).unwrap().as_i64().unwrap() as u64)
            };
            sink = sink.wrapping_add(term ^ cmd ^ old[0] as u64);
            let n = upd.execute(params![k as i64, (TERM + 1) as i64, (k & 0xff) as i64, &env.new_value]).unwrap();
            assert_eq!(n, 1);
        }
        black_box(sink);
        env.prim_keys.len() as u64
    })
}

pub fn compare_and_swap(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |c| {
        let mut get = c.prepare_cached(GET_DATA).unwrap();
        let mut upd = c.prepare_cached(UPDATE).unwrap();
        for &k in &env.prim_keys {
            let same = {
                let mut rows = get.query([k as i64]).unwrap();
                let row = rows.next().unwrap().expect("key exists");
                row.get_ref(0).unwrap().as_blob().unwrap() == env.value.as_slice()
            };
            assert!(same);
            let n = upd.execute(params![k as i64, (TERM + 1) as i64, (k & 0xff) as i64, &env.new_value]).unwrap();
            assert_eq!(n, 1);
        }
        env.prim_keys.len() as u64
    })
}

pub fn append(env: &Env) -> Sample {
    let (_, tmpl) = env.template("append", build_append);
    in_txn(env, &tmpl, &mut |c| {
        let mut get = c.prepare_cached(GET_DATA).unwrap();
        let mut upd = c.prepare_cached(UPDATE_DATA).unwrap();
        let mut buf: Vec<u8> = Vec::new();
        for &k in &env.append_keys {
            {
                let mut rows = get.query([k as i64]).unwrap();
                let row = rows.next().unwrap().expect("key exists");
                buf.clear();
                buf.extend_from_slice(row.get_ref(0).unwrap().as_blob().unwrap());
            }
            buf.extend_from_slice(&env.append_value);
            assert_eq!(buf.len(), APPEND_BASE + APPEND_LEN);
            assert_eq!(upd.execute(params![k as i64, &buf]).unwrap(), 1);
        }
        env.append_keys.len() as u64
    })
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

pub fn set_expire(env: &Env) -> Sample {
    in_txn(env, &env.populated_raw, &mut |c| {
        // The same work as kvidxSetExpire: the key must exist (NOT_FOUND otherwise).
        let mut exists = c.prepare_cached("SELECT 1 FROM log WHERE id = ?1").unwrap();
        let mut put = c.prepare_cached(TTL_PUT).unwrap();
        for &k in &env.prim_keys {
            assert!(exists.exists([k as i64]).unwrap());
            put.execute(params![k as i64, (now_ms() + FAR_TTL_MS) as i64]).unwrap();
        }
        env.prim_keys.len() as u64
    })
}

pub fn expire_scan(env: &Env) -> Sample {
    let (_, tmpl) = env.template("expired", build_expired);
    in_txn(env, &tmpl, &mut |c| {
        let mut del = c.prepare_cached(DELETE).unwrap();
        let mut del_ttl = c.prepare_cached(TTL_DELETE).unwrap();
        for &k in &env.prim_keys_sorted {
            assert_eq!(del.execute([k as i64]).unwrap(), 1);
            assert_eq!(del_ttl.execute([k as i64]).unwrap(), 1);
        }
        env.prim_keys.len() as u64
    })
}

// ----------------------------------------------------------------------
// Export/import table: the engine work of kvidxExport / kvidxImport.

/// "raw scan+write": every entry in key order (one SELECT stepped to the
/// end), written to `out` in the binary format.
pub fn export_scan_write(x: &XEnv, out: &Path) -> XSample {
    let c = open(&x.populated_raw);
    let mut stmt = c.prepare(SCAN).unwrap();
    let t = Instant::now();
    let mut w = BinWriter::create(out);
    {
        let mut rows = stmt.query([]).unwrap();
        while let Some(row) = rows.next().unwrap() {
            let key = row.get_ref(0).unwrap().as_i64().unwrap() as u64;
            let term = row.get_ref(1).unwrap().as_i64().unwrap() as u64;
            let cmd = row.get_ref(2).unwrap().as_i64().unwrap() as u64;
            let data = row.get_ref(3).unwrap().as_blob().unwrap();
            w.entry(key, term, cmd, data);
        }
    }
    let (n, bytes) = w.finish();
    let secs = t.elapsed().as_secs_f64();
    assert_eq!(n, x.n);
    XSample { secs, bytes }
}

/// "raw insert": the binary export read with a BufReader, every entry
/// inserted into a fresh database in one transaction (statement prepared
/// before the clock, as kvidxkit's are at open).
pub fn import_insert(x: &XEnv) -> XSample {
    let (file, bytes) = x.file(BINARY);
    let path = x.fresh("raw-import", x.engine.suffix);
    let secs = {
        let c = open(&path);
        c.prepare_cached(INSERT).unwrap();
        let t = Instant::now();
        let (mut r, count) = BinReader::open(&file);
        c.execute_batch("BEGIN").unwrap();
        {
            let mut stmt = c.prepare_cached(INSERT).unwrap();
            while let Some((k, term, cmd)) = r.next_entry() {
                let changed = stmt.execute(params![k as i64, term as i64, cmd as i64, &r.data[..]]).unwrap();
                debug_assert_eq!(changed, 1);
            }
        }
        c.execute_batch("COMMIT").unwrap();
        let secs = t.elapsed().as_secs_f64();
        assert_eq!(count, x.n);
        secs
    };
    remove_db(&path);
    XSample { secs, bytes }
}
