//! A durable work queue on kvidxkit, shared by threads: producers take job
//! ids from an atomic counter and enqueue jobs; workers claim the oldest
//! job, process it and record the result in one transaction, so a job
//! whose processing fails (or whose worker panics) is rolled back into the
//! queue and done again later — never lost, never done twice.
//!
//! Layout: key 0 is the counter (its term is the next job id); jobs are
//! keys `1..DONE` in id order (FIFO: the oldest is the smallest key above
//! 0); the result of job `n` is key `DONE + n`.
//!
//! Runs the scenario on every engine built in and checks every result:
//! exit status 0 when all is as expected, 1 otherwise.
//!
//! ```sh
//! cargo run --release --example work_queue [DIR]
//! ```

use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use kvidxkit::{Config, Engine, Error, SetCondition, Store, SyncMode};

const COUNTER: u64 = 0;
const DONE: u64 = 1 << 32;
const PRODUCERS: u64 = 4;
const JOBS_EACH: u64 = 100;
const WORKERS: usize = 3;

/// Enqueues a job: the counter's next id and the job, in one transaction.
fn enqueue<E: Engine>(db: &mut Store<E>, payload: &[u8]) -> kvidxkit::Result<u64> {
    db.atomically(|tx| {
        let id = tx.get(COUNTER)?.map_or(1, |e| e.term);
        tx.insert_ex(COUNTER, id + 1, 0, b"", SetCondition::Always)?;
        tx.insert(id, 0, 0, payload)?;
        Ok(id)
    })
}

/// Claims the oldest job and runs `work` on it; the job leaves the queue
/// and its result is stored only if `work` succeeds. `Ok(None)` when the
/// queue is empty.
fn work_one<E: Engine>(
    db: &mut Store<E>,
    work: impl FnOnce(u64, &[u8]) -> kvidxkit::Result<Vec<u8>>,
) -> kvidxkit::Result<Option<u64>> {
    let mut tx = db.transaction()?;
    let Some(job) = tx.next(COUNTER)?.filter(|e| e.key < DONE).map(|e| e.to_owned()) else {
        return Ok(None); // dropping tx rolls back nothing
    };
    tx.remove(job.key)?;
    let result = work(job.key, &job.data)?; // an error drops tx: the job stays queued
    tx.insert(DONE + job.key, 0, 0, &result)?;
    tx.commit()?;
    Ok(Some(job.key))
}

macro_rules! check {
    ($ok:expr, $($msg:tt)+) => {
        if !$ok {
            return Err(format!($($msg)+).into());
        }
    };
}

fn scenario<E: Engine>(path: &Path) -> Result<(), Box<dyn std::error::Error>> {
    // Commits are not flushed one by one (fast; a power cut may lose the
    // last ones); fsync() below makes everything durable at the end.
    let config = Config { sync_mode: SyncMode::Off, ..Config::default() };
    let db = Arc::new(Mutex::new(Store::<E>::open_with_config(path, &config)?));

    // A failing job is rolled back into the queue.
    {
        let mut db = db.lock().unwrap();
        let id = enqueue(&mut *db, b"job 1")?;
        let failed = work_one(&mut *db, |_, _| Err(Error::Cancelled("the worker gave up".into())));
        check!(matches!(failed, Err(Error::Cancelled(_))), "the failure is reported");
        check!(db.exists(id)? && !db.exists(DONE + id)?, "the job is still queued, no result");
        check!(work_one(&mut *db, |_, data| Ok(data.to_vec()))? == Some(id), "the job is done on retry");
        check!(db.get(DONE + id)?.map(|e| e.data.to_vec()) == Some(b"job 1".to_vec()), "its result");
    }

    // Producers and workers in parallel, sharing the store behind a mutex.
    let producers: Vec<_> = (0..PRODUCERS)
        .map(|p| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || -> kvidxkit::Result<()> {
                for n in 0..JOBS_EACH {
                    enqueue(&mut *db.lock().unwrap(), format!("{p}:{n}").as_bytes())?;
                }
                Ok(())
            })
        })
        .collect();
    let workers: Vec<_> = (0..WORKERS)
        .map(|_| {
            let db = Arc::clone(&db);
            std::thread::spawn(move || -> kvidxkit::Result<Vec<u64>> {
                let mut done = Vec::new();
                let mut idle = 0;
                while idle < 200 {
                    // Result: the payload reversed.
                    let job = work_one(&mut *db.lock().unwrap(), |_, data| Ok(data.iter().rev().copied().collect()))?;
                    match job {
                        Some(id) => {
                            done.push(id);
                            idle = 0;
                        }
                        None => {
                            idle += 1;
                            std::thread::yield_now();
                        }
                    }
                }
                Ok(done)
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer")?;
    }
    let mut done: Vec<u64> = Vec::new();
    for w in workers {
        done.extend(w.join().expect("worker")?);
    }
    // Whatever the workers left (they stop after a while without work).
    let mut db = Arc::try_unwrap(db).ok().expect("threads ended").into_inner().unwrap();
    while let Some(id) = work_one(&mut db, |_, data| Ok(data.iter().rev().copied().collect()))? {
        done.push(id);
    }
    db.fsync()?;

    let total = PRODUCERS * JOBS_EACH;
    done.sort_unstable();
    check!(done == (2..=total + 1).collect::<Vec<_>>(), "every job done exactly once ({} done)", done.len());
    check!(db.get(COUNTER)?.map(|e| e.term) == Some(total + 2), "the counter gave {} ids", total + 1);
    check!(!db.exists_in_range(1..DONE)?, "the queue is empty");
    check!(db.count_range(DONE..)? == total + 1, "one result per job");
    // Job 2 was the first a producer enqueued ("<p>:0"); its result is that reversed.
    let r = db.get(DONE + 2)?.ok_or("result of job 2")?;
    check!(r.data.starts_with(b"0:"), "job 2's result: {:?}", String::from_utf8_lossy(r.data));
    db.close().map_err(|(_, e)| e)?;
    println!(
        "[{}] work queue: {} jobs by {PRODUCERS} producers and {WORKERS} workers, each done once",
        E::NAME,
        total + 1
    );
    Ok(())
}

/// Runs the scenario on every engine built in, in `dir` (also called by
/// tests/rust_examples.rs).
pub fn run(dir: &Path) -> Result<(), Box<dyn std::error::Error>> {
    std::fs::create_dir_all(dir)?;
    #[cfg(feature = "sqlite")]
    scenario::<kvidxkit::Sqlite>(&dir.join("queue.sqlite3"))?;
    #[cfg(feature = "lmdb")]
    scenario::<kvidxkit::Lmdb>(&dir.join("queue.lmdb"))?;
    Ok(())
}

fn main() -> ExitCode {
    let dir = match std::env::args_os().nth(1) {
        Some(d) => d.into(),
        None => std::env::temp_dir().join(format!("kvidxkit-queue-{}", std::process::id())),
    };
    let r = run(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("work_queue: {e}");
            ExitCode::FAILURE
        }
    }
}
