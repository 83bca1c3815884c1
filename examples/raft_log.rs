//! A Raft log on kvidxkit: entries appended by index with their term,
//! read back by index, a follower's log truncated where it conflicts with
//! the leader's, the prefix compacted after a snapshot, the last index and
//! term found after a restart.
//!
//! Layout: the entry of log index `i` (from 1) is key `i`, its term the
//! entry's term, its cmd the entry kind, its value the command. Key 0
//! records the snapshot: term = last included term, cmd = last included
//! index (absent before the first compaction).
//!
//! Runs the scenario on every engine built in and checks every result:
//! exit status 0 when all is as expected, 1 otherwise.
//!
//! ```sh
//! cargo run --release --example raft_log [DIR]
//! ```

use std::path::Path;
use std::process::ExitCode;

use kvidxkit::{Engine, Entry, SetCondition, Store};

/// Entry kinds (the cmd of an entry).
const NORMAL: u64 = 1;
const SNAPSHOT_KEY: u64 = 0;

struct RaftLog<E: Engine> {
    db: Store<E>,
}

impl<E: Engine> RaftLog<E> {
    fn open(path: &Path) -> kvidxkit::Result<Self> {
        Ok(RaftLog { db: Store::open(path)? })
    }

    /// (index, term) of the last entry included in the snapshot, (0, 0)
    /// before the first compaction.
    fn snapshot(&mut self) -> kvidxkit::Result<(u64, u64)> {
        Ok(self.db.get(SNAPSHOT_KEY)?.map_or((0, 0), |e| (e.cmd, e.term)))
    }

    /// Index of the first entry still in the log.
    fn first_index(&mut self) -> kvidxkit::Result<u64> {
        Ok(self.snapshot()?.0 + 1)
    }

    /// (index, term) of the last entry: the largest key, or the snapshot's
    /// when the log after it is empty.
    fn last(&mut self) -> kvidxkit::Result<(u64, u64)> {
        match self.db.max_key()? {
            Some(i) if i != SNAPSHOT_KEY => Ok((i, self.term_at(i)?.expect("the last entry exists"))),
            _ => self.snapshot(),
        }
    }

    /// Term of the entry at `index` (the snapshot knows its last one).
    fn term_at(&mut self, index: u64) -> kvidxkit::Result<Option<u64>> {
        let (snap_index, snap_term) = self.snapshot()?;
        if index == snap_index {
            return Ok(Some(snap_term));
        }
        Ok(self.db.get(index)?.map(|e| e.term))
    }

    fn entry(&mut self, index: u64) -> kvidxkit::Result<Option<Entry>> {
        if index == SNAPSHOT_KEY {
            return Ok(None);
        }
        Ok(self.db.get(index)?.map(|e| e.to_owned()))
    }

    /// The leader appends commands in `term`, all in one transaction;
    /// returns the index of the last one.
    fn append(&mut self, term: u64, commands: &[&str]) -> kvidxkit::Result<u64> {
        let (mut index, _) = self.last()?;
        let mut tx = self.db.transaction()?;
        for c in commands {
            index += 1;
            tx.insert(index, term, NORMAL, c.as_bytes())?;
        }
        tx.commit()?;
        Ok(index)
    }

    /// A follower's AppendEntries: accepted only if the log holds
    /// `prev_index` at `prev_term`; an existing entry that conflicts with a
    /// new one (same index, other term) is deleted with everything after
    /// it; entries already present are kept. All or nothing.
    fn append_entries(&mut self, prev_index: u64, prev_term: u64, entries: &[(u64, &str)]) -> kvidxkit::Result<bool> {
        if self.term_at(prev_index)? != Some(prev_term) {
            return Ok(false);
        }
        let mut tx = self.db.transaction()?;
        for (n, (term, command)) in entries.iter().enumerate() {
            let index = prev_index + 1 + n as u64;
            if tx.exists_dual(index, *term)? {
                continue; // already there: Raft messages may be delivered twice
            }
            if tx.exists(index)? {
                // Conflict: truncate the log from here.
                tx.remove_range(index..)?;
            }
            tx.insert(index, *term, NORMAL, command.as_bytes())?;
        }
        tx.commit()?;
        Ok(true)
    }

    /// After a snapshot that includes everything up to `index`: drop those
    /// entries and record the snapshot's last index and term.
    fn compact(&mut self, index: u64) -> kvidxkit::Result<u64> {
        let term = self.term_at(index)?.expect("compaction point is in the log");
        self.db.atomically(|tx| {
            let removed = tx.remove_range(1..=index)?;
            tx.insert_ex(SNAPSHOT_KEY, term, index, b"", SetCondition::Always)?;
            Ok(removed)
        })
    }

    /// Terms of the entries of `[from, to]`, read as one range.
    fn terms(&mut self, from: u64, to: u64) -> kvidxkit::Result<Vec<u64>> {
        self.db.range(from..=to).map(|e| e.map(|e| e.term)).collect()
    }
}

/// Fails the run with a message when `ok` is false.
macro_rules! check {
    ($ok:expr, $($msg:tt)+) => {
        if !$ok {
            return Err(format!($($msg)+).into());
        }
    };
}

fn scenario<E: Engine>(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let mut log = RaftLog::<E>::open(path)?;
    check!(log.last()? == (0, 0), "a new log is empty");

    // Term 1: the leader appends ten commands, then term 2 five more.
    let commands: Vec<String> = (1..=10).map(|i| format!("set x={i}")).collect();
    let refs: Vec<&str> = commands.iter().map(String::as_str).collect();
    check!(log.append(1, &refs)? == 10, "ten entries in term 1");
    check!(log.append(2, &["a", "b", "c", "d", "e"])? == 15, "five entries in term 2");
    check!(log.last()? == (15, 2), "last entry after the appends");
    let e = log.entry(5)?.ok_or("entry 5")?;
    check!((e.term, e.cmd, e.data.as_slice()) == (1, NORMAL, &b"set x=5"[..]), "entry 5 read back: {e:?}");

    // A new leader in term 3 has other entries from 13 on: the follower's
    // 13..=15 (term 2) conflict and are replaced.
    check!(log.append_entries(12, 2, &[(3, "x13"), (3, "x14")])?, "AppendEntries after 12 accepted");
    check!(log.last()? == (14, 3), "log truncated at the conflict and extended: {:?}", log.last()?);
    check!(log.terms(11, 14)? == [2, 2, 3, 3], "terms of 11..=14");
    // The same message again changes nothing; one whose previous entry
    // does not match is refused and changes nothing either.
    check!(log.append_entries(12, 2, &[(3, "x13")])?, "duplicate delivery accepted");
    check!(log.last()? == (14, 3), "a duplicate does not truncate");
    check!(!log.append_entries(14, 2, &[(3, "x15")])?, "a mismatching previous term is refused");
    check!(log.last()? == (14, 3), "a refused message changes nothing");

    // Snapshot up to 10: the prefix goes, its last term is remembered.
    check!(log.compact(10)? == 10, "ten entries compacted");
    check!(log.first_index()? == 11, "the log now starts at 11");
    check!(log.entry(5)?.is_none(), "entry 5 is in the snapshot only");
    check!(log.term_at(10)? == Some(1), "the snapshot knows the term of 10");
    // AppendEntries right after the snapshot point still checks out.
    check!(log.append_entries(10, 1, &[(2, "a")])?, "AppendEntries after the snapshot point");

    // After a restart, the log is as it was.
    drop(log);
    let mut log = RaftLog::<E>::open(path)?;
    check!(log.last()? == (14, 3), "last entry after reopening");
    check!(log.snapshot()? == (10, 1), "snapshot after reopening");
    check!(log.db.count_range(1..)? == 4, "four entries after the snapshot");
    log.db.close().map_err(|(_, e)| e)?;
    println!("[{}] raft log: appended 15, truncated 3 at a conflict, compacted 10; last (14, 3)", E::NAME);
    Ok(())
}

/// Runs the scenario on every engine built in, in `dir` (also called by
/// tests/rust_examples.rs).
pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    #[cfg(feature = "sqlite")]
    scenario::<kvidxkit::Sqlite>(&dir.join("raft.sqlite3"))?;
    #[cfg(feature = "lmdb")]
    scenario::<kvidxkit::Lmdb>(&dir.join("raft.lmdb"))?;
    Ok(())
}

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => d.into(),
        None => std::env::temp_dir().join(format!("kvidxkit-raft-{}", std::process::id())),
    };
    let r = run(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("raft_log: {e}");
            ExitCode::FAILURE
        }
    }
}
