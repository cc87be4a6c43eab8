//! `pairwise-grader`: runs learner JavaScript for the server, one process per job.
//!
//! Started by the server with an empty environment, `/` as its directory and only standard
//! input, output and error open. Before reading its job it confines itself ([`confine`]): new
//! namespaces with an empty root, no capabilities, a seccomp filter, and OS limits (address
//! space, CPU time, no file writes, no core dumps, a handful of descriptors). Then it runs each
//! test in a fresh Boa context (loop-iteration, recursion and stack limits) and writes one JSON
//! line per test. Console output is captured, never written to standard output, so learner
//! code cannot forge a result line. The server kills this process on its wall clock.
//!
//! `pairwise-grader --probe TARGET...` confines itself the same way and then, from the engine
//! thread, tries each target (`file:PATH`, `dir:PATH`, `tcp:ADDR`, `exec:PATH`) as code that
//! escaped the engine would, and prints a [`Probe`] report: what confinement failed and what
//! each attempt got. The server runs it at start-up; the tests run it against real targets.

mod confine;
mod python;

use std::io::{Read, Write};

use app::exercises::model::{CONSOLE_CAP, Language, Outcome, TestRun, VALUE_CAP, test_script};
use boa_engine::{
    Context, JsObject, JsResult, JsValue, JsVariant, NativeFunction, Source,
    builtins::promise::PromiseState,
    js_string,
    object::{ObjectInitializer, builtins::JsDate},
    property::{Attribute, PropertyKey},
};
use rlimit::Resource;
use server::grading::{Attempt, JOB_CAP, Job, Line, MEMORY_BYTES, Probe, READY_LINE};

/// Loop iterations per loop before the engine throws: far above honest exercise code.
const LOOP_LIMIT: u64 = 20_000_000;
/// Nested calls before the engine throws a RangeError, near what browsers allow (~10,000).
const RECURSION_LIMIT: usize = 10_000;
/// The engine runs on a thread with this stack, deep enough for [`RECURSION_LIMIT`].
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// What the engine thread is given once the process is confined.
enum Work {
    Job(Job),
    Probe(Vec<String>),
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    // The child this program starts inside the new namespaces says so first.
    let inside = args.next_if(|a| a == "--inside").is_some();
    let probe: Option<Vec<String>> = match args.next().as_deref() {
        Some("--probe") => Some(args.collect()),
        _ => None,
    };
    let result = if inside {
        confine::die_with_parent().and_then(|()| match probe {
            Some(targets) => confine_and_serve(confine::isolate(), Work::Probe(targets)),
            None => match read_job()? {
                job if job.language == Language::Python => python::serve(job),
                job => confine_and_serve(confine::isolate(), Work::Job(job)),
            },
        })
    } else {
        close_inherited().and_then(|()| match confine::enter_namespaces() {
            confine::Entered::Namespaces => run_inside(probe),
            confine::Entered::Refused(warning) => match probe {
                Some(targets) => confine_and_serve(vec![warning], Work::Probe(targets)),
                None => match read_job()? {
                    job if job.language == Language::Python => python::refuse(&job, &warning),
                    job => confine_and_serve(vec![warning], Work::Job(job)),
                },
            },
        })
    };
    if let Err(message) = result {
        // The server reads only standard output; this is for a person running it by hand.
        eprintln!("pairwise-grader: {message}");
        std::process::exit(2);
    }
}

/// Runs this program again as the first process of the new pid namespace, on the same
/// standard input and output, and ends the way it ended: the server reads a signal that
/// killed the engine (CPU limit, memory) from this process's exit.
fn run_inside(probe: Option<Vec<String>>) -> Result<(), String> {
    use std::os::unix::process::ExitStatusExt;
    let mut command = std::process::Command::new("/proc/self/exe");
    command.arg("--inside").env_clear().current_dir("/");
    if let Some(targets) = probe {
        command.arg("--probe").args(targets);
    }
    // No core file from this process when it passes a signal on below.
    rlimit::setrlimit(Resource::CORE, 0, 0).map_err(|e| format!("setrlimit: {e}"))?;
    let status = command
        .status()
        .map_err(|e| format!("starting the confined grader: {e}"))?;
    if let Some(signal) = status.signal() {
        if let Ok(signal) = nix::sys::signal::Signal::try_from(signal) {
            let _ = nix::sys::signal::kill(nix::unistd::Pid::this(), signal);
        }
        std::process::exit(128 + signal);
    }
    std::process::exit(status.code().unwrap_or(2));
}

/// Confines this process ([`confine`]) and serves its job or probe; `warnings` are what the
/// confinement already failed to set up.
fn confine_and_serve(mut warnings: Vec<String>, work: Work) -> Result<(), String> {
    warnings.extend(confine::drop_capabilities());
    set_limits()?;
    // The engine thread exists before the seccomp filter, so the filter needs no thread
    // creation; it waits for its work until every thread is filtered.
    let (give, take) = std::sync::mpsc::sync_channel::<Work>(1);
    let engine = std::thread::Builder::new()
        .stack_size(STACK_BYTES)
        .spawn(move || match take.recv() {
            Ok(Work::Job(job)) => run_all(&job),
            Ok(Work::Probe(targets)) => {
                probe_targets(targets);
                Ok(())
            }
            Err(_) => Ok(()),
        })
        .map_err(|e| e.to_string())?;
    if let Err(e) = confine::seccomp() {
        warnings.push(format!(
            "the seccomp filter was refused ({e}): learner code is kept in by namespaces and \
             limits only"
        ));
    }
    match &work {
        Work::Probe(_) => print_probe(&Probe {
            warnings,
            attempts: Vec::new(),
        })?,
        // Lowered to the job's budget (raising a hard limit again is not possible).
        Work::Job(job) => rlimit::setrlimit(Resource::CPU, job.cpu_secs, job.cpu_secs)
            .map_err(|e| format!("setrlimit: {e}"))?,
    }
    give.send(work).map_err(|e| e.to_string())?;
    engine
        .join()
        .map_err(|_| "the engine thread panicked".to_string())?
}

/// Closes every descriptor inherited beyond 0, 1 and 2 (a server started from a shell or a
/// service manager may pass some on) and checks none is left.
fn close_inherited() -> Result<(), String> {
    let inherited = || -> Result<Vec<i32>, String> {
        Ok(std::fs::read_dir("/proc/self/fd")
            .map_err(|e| format!("cannot list descriptors: {e}"))?
            .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
            .filter(|fd| *fd > 2)
            .collect())
    };
    for fd in inherited()? {
        // One of them is the listing's own directory handle, closed already: EBADF is fine.
        let _ = nix::unistd::close(fd);
    }
    let left = inherited()?;
    // The second listing's own handle is the only one allowed.
    if left.len() > 1 {
        return Err(format!("descriptors {left:?} are still open"));
    }
    Ok(())
}

/// The OS limits, soft = hard so the process cannot raise them again.
fn set_limits() -> Result<(), String> {
    let job_cpu = 60; // lowered to the job's budget next
    for (resource, limit) in [
        (Resource::AS, MEMORY_BYTES + STACK_BYTES as u64),
        (Resource::CPU, job_cpu),
        (Resource::FSIZE, 0),
        (Resource::CORE, 0),
        (Resource::NOFILE, 8),
    ] {
        rlimit::setrlimit(resource, limit, limit).map_err(|e| format!("setrlimit: {e}"))?;
    }
    Ok(())
}

fn read_job() -> Result<Job, String> {
    let mut input = Vec::new();
    std::io::stdin()
        .take(JOB_CAP as u64 + 1)
        .read_to_end(&mut input)
        .map_err(|e| e.to_string())?;
    if input.len() > JOB_CAP {
        return Err("job too large".into());
    }
    serde_json::from_slice(&input).map_err(|e| format!("bad job: {e}"))
}

fn print_probe(probe: &Probe) -> Result<(), String> {
    let mut line = serde_json::to_vec(probe).map_err(|e| e.to_string())?;
    line.push(b'\n');
    let mut out = std::io::stdout().lock();
    out.write_all(&line)
        .and_then(|()| out.flush())
        .map_err(|e| e.to_string())
}

/// Tries each target the way code that got out of the engine would, and prints what each got
/// as a second report line.
fn probe_targets(targets: Vec<String>) {
    let attempts = targets
        .into_iter()
        .map(|target| {
            let outcome = match target.split_once(':') {
                Some(("file", path)) => std::fs::read(path).map(|_| ()),
                Some(("dir", path)) => std::fs::read_dir(path).map(|_| ()),
                Some(("tcp", addr)) => std::net::TcpStream::connect(addr).map(|_| ()),
                Some(("exec", path)) => std::process::Command::new(path).status().map(|_| ()),
                _ => Err(std::io::Error::other("unknown target")),
            };
            Attempt {
                outcome: match outcome {
                    Ok(()) => "allowed".into(),
                    Err(e) => format!("denied: {e}"),
                },
                target,
            }
        })
        .collect();
    let _ = print_probe(&Probe {
        warnings: Vec::new(),
        attempts,
    });
}

fn run_all(job: &Job) -> Result<(), String> {
    let mut stdout = std::io::stdout().lock();
    // Confined, job in hand: the server starts the first test's clock now.
    writeln!(stdout, "{READY_LINE}")
        .and_then(|()| stdout.flush())
        .map_err(|e| e.to_string())?;
    for (index, expression) in job.expressions.iter().enumerate().skip(job.start) {
        let started = std::time::Instant::now();
        let outcome = run_one(&job.code, expression);
        let run = TestRun {
            outcome,
            console: take_console(),
            micros: started.elapsed().as_micros().try_into().unwrap_or(u64::MAX),
        };
        let mut line = serde_json::to_vec(&Line { index, run }).map_err(|e| e.to_string())?;
        line.push(b'\n');
        stdout.write_all(&line).map_err(|e| e.to_string())?;
        stdout.flush().map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// A fresh realm running the test's script ([`test_script`]).
fn run_one(code: &str, expression: &str) -> Outcome {
    let mut context = Context::default();
    let limits = context.runtime_limits_mut();
    limits.set_loop_iteration_limit(LOOP_LIMIT);
    limits.set_recursion_limit(RECURSION_LIMIT);
    if let Err(e) = install_console(&mut context) {
        return threw(e.to_string());
    }
    let script = test_script(code, expression);
    let value = context.eval(Source::from_bytes(script.as_str()));
    let value = match value {
        Ok(v) => v,
        Err(e) => return threw(error_message(e, &mut context)),
    };
    let value = match value.as_promise() {
        Some(promise) => {
            // Settles the promise; an endless chain never returns and the server kills us.
            if let Err(e) = context.run_jobs() {
                return threw(error_message(e, &mut context));
            }
            match promise.state() {
                PromiseState::Fulfilled(v) => v,
                PromiseState::Rejected(reason) => {
                    return threw(error_message(
                        boa_engine::JsError::from_opaque(reason),
                        &mut context,
                    ));
                }
                PromiseState::Pending => return threw("the promise never settled".into()),
            }
        }
        None => value,
    };
    // Read natively, the way the browser reads a Run's result (structured clone, then JSON in
    // a clean realm): enumerable own properties, getters called, dates as ISO text, no toJSON,
    // no prototypes. A replaced JSON or Object.prototype cannot change what is compared.
    match extract(&value, &mut context, 0, &mut Vec::new()) {
        Ok(json) => {
            let json = json.unwrap_or(serde_json::Value::Null);
            let size = serde_json::to_vec(&json)
                .map(|v| v.len())
                .unwrap_or(usize::MAX);
            if size > VALUE_CAP {
                threw(format!(
                    "the returned value is too large to compare ({size} bytes of JSON)"
                ))
            } else {
                Outcome::Returned { value: json }
            }
        }
        Err(message) => threw(format!("the returned value cannot be compared: {message}")),
    }
}

/// Deeper values than this are refused rather than walked (and the walk's stack bounded).
const MAX_DEPTH: usize = 200;

/// A JavaScript value as JSON; `None` for `undefined` (dropped from objects, `null` in arrays).
fn extract(
    value: &JsValue,
    context: &mut Context,
    depth: usize,
    seen: &mut Vec<JsObject>,
) -> Result<Option<serde_json::Value>, String> {
    use serde_json::Value;
    if depth > MAX_DEPTH {
        return Err("it is nested too deeply".into());
    }
    let object = match value.variant() {
        JsVariant::Null => return Ok(Some(Value::Null)),
        JsVariant::Undefined => return Ok(None),
        JsVariant::Boolean(b) => return Ok(Some(Value::Bool(b))),
        JsVariant::String(s) => return Ok(Some(Value::String(s.to_std_string_escaped()))),
        JsVariant::Integer32(i) => return Ok(Some(Value::from(i))),
        // Like JSON: NaN and the infinities become null.
        JsVariant::Float64(f) => {
            return Ok(Some(
                serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            ));
        }
        JsVariant::BigInt(_) => return Err("a BigInt is not JSON".into()),
        JsVariant::Symbol(_) => return Err("a Symbol is not JSON".into()),
        JsVariant::Object(o) => o,
    };
    if object.is_callable() {
        return Err("a function is not JSON".into());
    }
    if let Ok(date) = JsDate::from_object(object.clone()) {
        return Ok(Some(match date.to_iso_string(context) {
            Ok(text) => text
                .as_string()
                .map_or(Value::Null, |s| Value::String(s.to_std_string_escaped())),
            // An invalid date is null in JSON.
            Err(_) => Value::Null,
        }));
    }
    if seen.iter().any(|o| o == &object) {
        return Err("it refers to itself".into());
    }
    seen.push(object.clone());
    let out = if object.is_array() {
        let length = object
            .get(js_string!("length"), context)
            .and_then(|l| l.to_length(context))
            .map_err(|e| e.to_string())?;
        if length > 1_000_000 {
            return Err("the array is too long".into());
        }
        let mut items = Vec::new();
        for i in 0..length {
            let item = object.get(i, context).map_err(|e| e.to_string())?;
            items.push(extract(&item, context, depth + 1, seen)?.unwrap_or(Value::Null));
        }
        Value::Array(items)
    } else {
        let mut map = serde_json::Map::new();
        let keys = object
            .own_property_keys(context)
            .map_err(|e| e.to_string())?;
        for key in keys {
            let name = match &key {
                PropertyKey::String(s) => s.to_std_string_escaped(),
                PropertyKey::Index(i) => i.get().to_string(),
                // Structured clone and JSON both skip symbol keys.
                PropertyKey::Symbol(_) => continue,
            };
            let enumerable = object
                .borrow()
                .properties()
                .get(&key)
                .is_none_or(|d| d.expect_enumerable());
            if !enumerable {
                continue;
            }
            let item = object.get(key, context).map_err(|e| e.to_string())?;
            if let Some(v) = extract(&item, context, depth + 1, seen)? {
                map.insert(name, v);
            }
        }
        Value::Object(map)
    };
    seen.pop();
    Ok(Some(out))
}

fn threw(message: String) -> Outcome {
    let mut message = message;
    if message.len() > 1_000 {
        let cut = (0..=1_000)
            .rev()
            .find(|&i| message.is_char_boundary(i))
            .unwrap_or(0);
        message.truncate(cut);
        message.push('…');
    }
    Outcome::Threw { message }
}

/// The message a browser would show for a thrown value: an error's message, else the value.
fn error_message(error: boa_engine::JsError, context: &mut Context) -> String {
    if let Ok(native) = error.try_native(context) {
        return native.message().to_string();
    }
    // Engine errors (a runtime limit) cannot be caught by learner code; say what they were.
    let text = error.to_string();
    let first_line = text.lines().next().unwrap_or_default().to_string();
    match error.into_opaque(context) {
        Ok(opaque) => opaque
            .to_string(context)
            .map(|s| s.to_std_string_escaped())
            .unwrap_or_else(|_| opaque.display().to_string()),
        Err(_) => first_line,
    }
}

thread_local! {
    static CONSOLE: std::cell::RefCell<(String, usize)> = const { std::cell::RefCell::new((String::new(), 0)) };
}

fn take_console() -> String {
    CONSOLE.with(|c| {
        let (text, dropped) = std::mem::take(&mut *c.borrow_mut());
        if dropped > 0 {
            format!("{text}[{dropped} more characters of output dropped]\n")
        } else {
            text
        }
    })
}

fn console_write(_this: &JsValue, args: &[JsValue], context: &mut Context) -> JsResult<JsValue> {
    let mut line = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        match arg.as_string() {
            Some(s) => line.push_str(&s.to_std_string_escaped()),
            None => line.push_str(&arg.display().to_string()),
        }
    }
    line.push('\n');
    let _ = context;
    CONSOLE.with(|c| {
        let mut c = c.borrow_mut();
        if c.0.len() + line.len() <= CONSOLE_CAP {
            c.0.push_str(&line);
        } else {
            c.1 += line.len();
        }
    });
    Ok(JsValue::undefined())
}

fn install_console(context: &mut Context) -> JsResult<()> {
    let mut console = ObjectInitializer::new(context);
    for name in ["log", "info", "warn", "error", "debug"] {
        console.function(
            NativeFunction::from_fn_ptr(console_write),
            js_string!(name),
            0,
        );
    }
    let console = console.build();
    context.register_global_property(js_string!("console"), console, Attribute::all())
}
