//! The grader's confinement beyond rlimits (issue 18, item 5): namespaces, an empty root, no
//! capabilities, a seccomp filter. Read from outside (`/proc/<pid>/…` of a running grader),
//! tried from inside (a probe that attempts what escaped code would), and from learner code.

use std::{
    io::Write,
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use server::grading::{Job, Probe};

use crate::helpers::{server_binary, spawn_app};

fn grader() -> PathBuf {
    server_binary().with_file_name("pairwise-grader")
}

/// The process whose parent is `parent`, once it exists.
fn child_of(parent: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // "pid (name) state ppid …": the name may hold spaces, so read after its ')'.
            let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
            if after.split_whitespace().nth(1) == Some(parent.to_string().as_str()) {
                return pid;
            }
        }
        assert!(
            Instant::now() < deadline,
            "the grader started no engine process"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn status_field(pid: u32, field: &str) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")))
        .map(|v| v.trim().to_string())
        .unwrap_or_default()
}

fn namespace(pid: &str, kind: &str) -> String {
    std::fs::read_link(format!("/proc/{pid}/ns/{kind}"))
        .expect("namespace link")
        .display()
        .to_string()
}

/// A grader working on a job that spins until its CPU limit, the way the server starts one.
fn spinning_grader() -> Child {
    let mut child = Command::new(grader())
        .env_clear()
        .current_dir("/")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the grader starts");
    let job = Job {
        language: app::exercises::model::Language::JavaScript,
        python: PathBuf::new(),
        code: "function spin() { for (;;) { for (;;) {} } }".into(),
        expressions: vec!["spin()".into(); 20],
        start: 0,
        cpu_secs: 30,
    };
    let mut stdin = child.stdin.take().expect("stdin");
    stdin
        .write_all(&serde_json::to_vec(&job).expect("json"))
        .expect("job written");
    drop(stdin);
    child
}

#[test]
fn a_running_grader_has_its_own_namespaces_an_empty_root_no_capabilities_and_seccomp() {
    let mut grader = spinning_grader();
    let engine = child_of(grader.id());
    // The filter goes on just before the job is read: wait until it has.
    let deadline = Instant::now() + Duration::from_secs(10);
    while status_field(engine, "Seccomp") != "2" {
        assert!(
            Instant::now() < deadline,
            "the engine process never entered seccomp filter mode: Seccomp {:?}",
            status_field(engine, "Seccomp")
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(status_field(engine, "NoNewPrivs"), "1");
    for set in ["CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"] {
        assert_eq!(
            status_field(engine, set),
            "0000000000000000",
            "{set} still holds capabilities"
        );
    }
    let engine = engine.to_string();
    for kind in ["user", "mnt", "net", "pid", "ipc", "uts"] {
        assert_ne!(
            namespace(&engine, kind),
            namespace("self", kind),
            "the engine shares the {kind} namespace with the host"
        );
    }
    // Its own pid namespace: it is that namespace's first process.
    assert_eq!(
        status_field(engine.parse().unwrap(), "NSpid")
            .split_whitespace()
            .last(),
        Some("1")
    );
    // Its root, seen from outside, is an empty file system: no data directory, no /etc.
    let root: Vec<_> = std::fs::read_dir(format!("/proc/{engine}/root"))
        .expect("the engine's root is readable to its owner")
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(root.is_empty(), "the engine's root holds {root:?}");

    // Killing what the server started takes the engine with it.
    grader.kill().expect("killed");
    grader.wait().expect("reaped");
    let deadline = Instant::now() + Duration::from_secs(2);
    while std::path::Path::new(&format!("/proc/{engine}")).exists()
        && !status_field(engine.parse().unwrap(), "State").starts_with('Z')
    {
        assert!(Instant::now() < deadline, "the engine outlived its grader");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn code_that_escaped_the_engine_can_open_no_file_socket_or_program() {
    // A data directory like the server's, a listening socket and the host's files.
    let dir = tempfile::tempdir().expect("temp dir");
    let data = dir.path().join("data");
    std::fs::create_dir(&data).expect("data dir");
    std::fs::write(data.join("pairwise.key"), "secret").expect("secret");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let targets = [
        format!("file:{}", data.join("pairwise.key").display()),
        format!("dir:{}", data.display()),
        "file:/etc/passwd".to_string(),
        "dir:/".to_string(),
        format!("tcp:{addr}"),
        "tcp:[::1]:22".to_string(),
        "exec:/bin/sh".to_string(),
    ];
    let output = Command::new(grader())
        .arg("--probe")
        .args(&targets)
        .env_clear()
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .expect("the probe runs");
    let text = String::from_utf8_lossy(&output.stdout);
    let mut lines = text.lines();
    let first: Probe = serde_json::from_str(lines.next().expect("a report")).expect("json");
    assert_eq!(first.warnings, Vec::<String>::new(), "confinement weakened");
    let second: Probe = serde_json::from_str(lines.next().expect("attempts")).expect("json");
    assert_eq!(second.attempts.len(), targets.len());
    for attempt in &second.attempts {
        assert!(
            attempt.outcome.starts_with("denied"),
            "{} was {}",
            attempt.target,
            attempt.outcome
        );
    }
    assert!(
        listener.accept().is_err(),
        "the probe reached the host's listening socket"
    );
}

#[tokio::test]
async fn learner_code_finds_no_file_network_or_process_api_and_the_server_checks_confinement() {
    use crate::exercises::{enrolled_learner, exercise_course, submit, test_case};
    let app = spawn_app().await;
    let limits = app::exercises::model::Limits::parse(2_000, 4_000).unwrap();
    let lesson = exercise_course(
        &app,
        "escape",
        None,
        vec![
            test_case("no host APIs", "hostApis()", json!([]), false),
            test_case("no file import", "fileImport()", json!("refused"), false),
        ],
        limits,
    )
    .await;
    let who = enrolled_learner(&app, "escape@example.org", "escape").await;
    let code = "function hostApis() {\n\
                  const names = ['require', 'process', 'Deno', 'Bun', 'fetch', 'XMLHttpRequest',\n\
                    'WebSocket', 'load', 'read', 'readFile', 'readline', 'os', 'std', 'quit',\n\
                    'importScripts', 'Worker'];\n\
                  return names.filter(n => typeof globalThis[n] !== 'undefined');\n\
                }\n\
                async function fileImport() {\n\
                  try { await import('/etc/passwd'); return 'loaded'; } catch (e) {}\n\
                  try { await import('file:///etc/passwd'); return 'loaded'; } catch (e) {}\n\
                  return 'refused';\n\
                }";
    let view = submit(&app, &who, &lesson, code).await;
    assert_eq!(view["summary"]["passed"], 2, "{view}");
    // What the server asks a grader at start-up, to warn when the kernel refused a layer.
    let pool = server::grading::GraderPool::new(grader(), "/usr/bin/python3".into(), 1);
    let warnings = pool.check_confinement().await.expect("probe");
    assert!(warnings.is_empty(), "{warnings:?}");
    app.stop().await;
}
