//! Python jobs: one confined CPython process for one test.
//!
//! The process the server started has entered new namespaces (see `confine`); its child, the
//! first process of the new pid namespace, comes here with the job read. It builds a root
//! that holds only the host's `/usr`, read-only, and a small private writable `/tmp`
//! ([`confine::python_root`]), sets the descriptors — 0: this test's job (the learner's code
//! and this one test's expression: no other test, no expected value), 3: the pipe to the
//! server, for the one result line, 1 and 2: a pipe nobody reads — drops every capability,
//! sets the limits, installs a seccomp filter for CPython and then becomes
//! `python3 -I -S -B -c <harness> serve`.
//!
//! CPython cannot keep code from the harness that runs it in the same process: learner code
//! can reach descriptor 3. What it writes there can only speak for its own test, though — the
//! process holds nothing else — and the server's Rust judge compares it with an expected value
//! that never enters the process. So a forged line is worth exactly what returning that value
//! is, and the line is parsed as data and capped by the server.

use std::{
    ffi::CString,
    io::Write,
    os::{
        fd::{AsFd, AsRawFd},
        unix::ffi::OsStrExt,
    },
};

use app::exercises::model::{Outcome, PYTHON_HARNESS, TestRun};
use rlimit::Resource;
use server::grading::{Job, Line, MEMORY_BYTES, READY_LINE};

use crate::confine;

/// What a Python test may write into its private `/tmp`, per file.
const FILE_BYTES: u64 = 1024 * 1024;
/// Descriptors a Python test may hold: the interpreter's own plus a few files.
const FILES: u64 = 64;

/// Runs the test at `job.start` in a confined CPython, or reports why it cannot.
pub fn serve(job: Job) -> Result<(), String> {
    let Some(expression) = job.expressions.get(job.start) else {
        return Ok(());
    };
    ready()?;
    // The pipe to the server, kept apart while descriptors 1 and 2 are pointed elsewhere.
    let server = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map_err(|e| e.to_string())?;
    // Only returns when something failed before Python started: the test says what.
    let reason = match start(&job, expression) {
        Ok(never) => match never {},
        Err(reason) => reason,
    };
    report(
        std::fs::File::from(server),
        job.start,
        format!("Python could not be started here: {reason}"),
    )
}

/// The namespaces were refused: Python exercises are not graded without them (the root
/// that hides the host's files is what keeps `open('/etc/passwd')` out).
pub fn refuse(job: &Job, warning: &str) -> Result<(), String> {
    ready()?;
    report(
        std::io::stdout().lock(),
        job.start,
        format!("Python exercises cannot be graded on this server: {warning}"),
    )
}

fn ready() -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{READY_LINE}")
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

fn report(mut out: impl Write, index: usize, message: String) -> Result<(), String> {
    let run = TestRun {
        outcome: Outcome::Threw { message },
        console: String::new(),
        micros: 0,
    };
    let mut line = serde_json::to_vec(&Line { index, run }).map_err(|e| e.to_string())?;
    line.push(b'\n');
    out.write_all(&line)
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// Sets everything up and becomes Python; returns only on failure.
fn start(job: &Job, expression: &str) -> Result<std::convert::Infallible, String> {
    let python = CString::new(job.python.as_os_str().as_bytes())
        .map_err(|_| "the configured Python path holds a NUL byte".to_string())?;
    let input = serde_json::to_vec(&serde_json::json!({
        "index": job.start,
        "code": job.code,
        "expression": expression,
    }))
    .map_err(|e| e.to_string())?;
    confine::python_root()?;
    // This test's job, whole in a pipe before Python starts (it is at most a few hundred KB;
    // the pipe is made large enough that writing it cannot block).
    let (job_out, job_in) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    let room = i32::try_from(input.len() + 4096)
        .unwrap_or(i32::MAX)
        .max(65_536);
    nix::fcntl::fcntl(job_in.as_raw_fd(), nix::fcntl::FcntlArg::F_SETPIPE_SZ(room))
        .map_err(|e| format!("sizing the job's pipe: {e}"))?;
    let mut written = 0;
    while written < input.len() {
        written += nix::unistd::write(&job_in, &input[written..])
            .map_err(|e| format!("writing the job: {e}"))?;
    }
    drop(job_in);
    // Output nobody reads: `print` is captured by the harness; a raw write gets an error.
    let (sink_out, sink_in) = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    drop(sink_out);
    // Descriptor 1 is still the server's pipe here. (The copy kept for a failure report is
    // close-on-exec and may itself be number 3: `dup2` from another number clears the flag.)
    for (from, to) in [
        (1, 3),
        (job_out.as_raw_fd(), 0),
        (sink_in.as_raw_fd(), 1),
        (sink_in.as_raw_fd(), 2),
    ] {
        nix::unistd::dup2(from, to).map_err(|e| format!("dup2: {e}"))?;
    }
    drop((job_out, sink_in));
    let warnings = confine::drop_capabilities();
    if let Some(w) = warnings.first() {
        return Err(w.clone());
    }
    for (resource, limit) in [
        (Resource::AS, MEMORY_BYTES),
        (Resource::CPU, job.cpu_secs),
        (Resource::FSIZE, FILE_BYTES),
        (Resource::CORE, 0),
        (Resource::NOFILE, FILES),
    ] {
        rlimit::setrlimit(resource, limit, limit).map_err(|e| format!("setrlimit: {e}"))?;
    }
    let argv: Vec<CString> = ["-I", "-S", "-B", "-c", PYTHON_HARNESS, "serve"]
        .into_iter()
        .map(CString::new)
        .collect::<Result<_, _>>()
        .map_err(|_| "the harness holds a NUL byte".to_string())?;
    let argv: Vec<&std::ffi::CStr> = std::iter::once(python.as_c_str())
        .chain(argv.iter().map(CString::as_c_str))
        .collect();
    confine::python_seccomp(&python)?;
    nix::unistd::execv(&python, &argv).map_err(|e| format!("{}: {e}", job.python.display()))
}
