//! Child processes for the engine tests: the test binary re-runs itself with
//! a role (an environment variable) so that a test can use several real
//! processes, resource limits or a time limit, and catch a crash (signal),
//! an abort or a hang of the child as a test failure instead of losing the
//! whole test binary.
//!
//! Each test binary that uses this declares one test that dispatches:
//!
//! ```ignore
//! #[test]
//! fn child_role() { if let Some(r) = proc::role() { std::process::exit(run_role(&r)); } }
//! ```
#![allow(dead_code)]

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

const ROLE_VAR: &str = "KVIDX_TEST_ROLE";
const ARGS_VAR: &str = "KVIDX_TEST_ROLE_ARGS";
/// The name of the dispatching test in every binary that uses roles.
pub const DISPATCH_TEST: &str = "child_role";

/// A role this process was started in: its name and arguments.
#[derive(Debug, Clone)]
pub struct Role {
    pub name: String,
    pub args: Vec<String>,
}

impl Role {
    pub fn arg(&self, i: usize) -> &str {
        &self.args[i]
    }
}

/// The role of this process, if it is a child started by [`command`].
pub fn role() -> Option<Role> {
    let name = std::env::var(ROLE_VAR).ok()?;
    let args = std::env::var(ARGS_VAR).unwrap_or_default();
    let args = if args.is_empty() { Vec::new() } else { args.split('\u{1f}').map(String::from).collect() };
    Some(Role { name, args })
}

/// A command that runs this test binary in `role` with `args`.
pub fn command(role: &str, args: &[&str]) -> Command {
    let exe = std::env::current_exe().expect("current_exe");
    let mut c = Command::new(exe);
    c.args([DISPATCH_TEST, "--exact", "--nocapture", "--test-threads=1", "-q"]);
    c.env(ROLE_VAR, role);
    c.env(ARGS_VAR, args.join("\u{1f}"));
    c.stdin(Stdio::null());
    c
}

/// How a child ended.
#[derive(Debug)]
pub struct Outcome {
    pub status: Option<ExitStatus>,
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        !self.timed_out && self.status.is_some_and(|s| s.success())
    }

    /// "exit 0", "exit 3", "signal 7 (SIGBUS)", "timeout".
    pub fn describe(&self) -> String {
        use std::os::unix::process::ExitStatusExt;
        if self.timed_out {
            return format!("timeout after {:?}", self.elapsed);
        }
        match self.status {
            Some(s) => match (s.code(), s.signal()) {
                (Some(c), _) => format!("exit {c}"),
                (_, Some(sig)) => format!("signal {sig} ({})", signal_name(sig)),
                _ => format!("{s}"),
            },
            None => "not started".into(),
        }
    }

    /// Lines of standard output that start with `prefix` (prefix removed).
    pub fn lines_with(&self, prefix: &str) -> Vec<String> {
        self.stdout.lines().filter_map(|l| l.strip_prefix(prefix)).map(String::from).collect()
    }
}

pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        libc::SIGBUS => "SIGBUS",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGABRT => "SIGABRT",
        libc::SIGKILL => "SIGKILL",
        libc::SIGILL => "SIGILL",
        libc::SIGFPE => "SIGFPE",
        libc::SIGXFSZ => "SIGXFSZ",
        _ => "?",
    }
}

/// Waits for `child` at most `limit`; kills it (by its pid) when the time is up.
pub fn wait_limited(mut child: Child, limit: Duration) -> Outcome {
    let start = Instant::now();
    let mut out = child.stdout.take();
    let mut err = child.stderr.take();
    // Drain the pipes on threads so that a chatty child never blocks.
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(o) = out.as_mut() {
            let _ = o.read_to_string(&mut s);
        }
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        if let Some(e) = err.as_mut() {
            let _ = e.read_to_string(&mut s);
        }
        s
    });
    let mut timed_out = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) => {}
            Err(_) => break None,
        }
        if start.elapsed() > limit {
            timed_out = true;
            let _ = child.kill();
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let elapsed = start.elapsed();
    Outcome {
        status,
        timed_out,
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
        elapsed,
    }
}

/// Runs `cmd` with piped output and a time limit.
pub fn run_limited(mut cmd: Command, limit: Duration) -> Outcome {
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = cmd.spawn().expect("spawn child");
    wait_limited(child, limit)
}
