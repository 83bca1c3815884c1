//! The Rust example programs (examples/*.rs) as tests: each one's scenario
//! — which checks every result itself — on every engine built in, in a
//! scratch directory. `cargo run --example NAME` runs the same scenario as
//! a program.

mod common;

// Each example's source, as a module (its `main` is the program's, unused here).
#[allow(dead_code)]
#[path = "../examples/raft_log.rs"]
mod raft_log;
#[allow(dead_code)]
#[path = "../examples/ttl_cache.rs"]
mod ttl_cache;
#[allow(dead_code)]
#[path = "../examples/work_queue.rs"]
mod work_queue;

#[test]
fn raft_log() {
    raft_log::run(&common::scratch("example-raft-log")).unwrap();
}

#[test]
fn ttl_cache() {
    ttl_cache::run(&common::scratch("example-ttl-cache")).unwrap();
}

#[test]
fn work_queue() {
    work_queue::run(&common::scratch("example-work-queue")).unwrap();
}
