//! Python exercises on the server (issue 21): the harness's value rules, and learner code in
//! the confined CPython — the attack corpus each ends in a verdict within 5 s, with the
//! server and other learners unaffected.

use std::time::{Duration, Instant};

use app::exercises::model::{Language, Limits, Outcome, TestRun};
use serde_json::{Value, json};
use server::grading::GraderPool;

use crate::helpers::server_binary;

fn pool(workers: usize) -> GraderPool {
    GraderPool::new(
        server_binary().with_file_name("pairwise-grader"),
        "/usr/bin/python3".into(),
        workers,
    )
}

const LIMITS: Limits = Limits {
    test_ms: 2_000,
    total_ms: 20_000,
};

async fn run(pool: &GraderPool, code: &str, calls: &[&str]) -> Vec<TestRun> {
    let calls: Vec<String> = calls.iter().map(|c| c.to_string()).collect();
    pool.run("learner", Language::Python, code, &calls, LIMITS)
        .await
        .expect("the queue has room")
}

fn returned(run: &TestRun) -> &Value {
    match &run.outcome {
        Outcome::Returned { value } => value,
        other => panic!(
            "expected a value, got {other:?} (console {:?})",
            run.console
        ),
    }
}

fn threw(run: &TestRun) -> &str {
    match &run.outcome {
        Outcome::Threw { message } => message,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn values_print_and_errors_come_back_as_the_harness_reads_them() {
    let pool = pool(2);
    let code = "def mean(xs):\n    print('mean of', xs)\n    return sum(xs) / len(xs)\n\n\
                def shapes():\n    return (1, [2.5, {'a': None}], True, 'é')\n\n\
                def boom():\n    return 1 / 0\n\n\
                class Point:\n    pass\n";
    let runs = run(
        &pool,
        code,
        &[
            "mean([1, 2, 3, 4])",
            "shapes()",
            "boom()",
            "Point()",
            "{1: 'one'}",
            "float('nan')",
            "10 ** 40",
            "set([1])",
            "undefined_name",
        ],
    )
    .await;
    assert_eq!(returned(&runs[0]), &json!(2.5));
    assert_eq!(runs[0].console, "mean of [1, 2, 3, 4]\n");
    assert_eq!(
        returned(&runs[1]),
        &json!([1, [2.5, {"a": null}], true, "é"])
    );
    assert_eq!(
        threw(&runs[2]),
        "ZeroDivisionError: division by zero (line 9)"
    );
    assert!(threw(&runs[3]).starts_with("a value of type Point cannot be compared"));
    assert!(threw(&runs[4]).contains("use string keys"));
    assert!(threw(&runs[5]).contains("not a finite number"));
    assert!(threw(&runs[6]).contains("too large"));
    assert!(threw(&runs[7]).starts_with("a value of type set"));
    assert_eq!(
        threw(&runs[8]),
        "NameError: name 'undefined_name' is not defined"
    );
    // A syntax error says where.
    let runs = run(&pool, "def f(:\n    return 1\n", &["f()"]).await;
    assert_eq!(threw(&runs[0]), "SyntaxError: invalid syntax (line 1)");
    // Each test starts afresh: nothing one test changed is there in the next.
    let runs = run(
        &pool,
        "seen = []\n",
        &["seen.append(1) or len(seen)", "len(seen)"],
    )
    .await;
    assert_eq!(returned(&runs[0]), &json!(1));
    assert_eq!(returned(&runs[1]), &json!(0));
}

/// Each attack is a function that reports what it got; all are contained.
const ATTACKS: &str = r#"
import os

def system():
    return os.system("echo escaped > /tmp/x")

def spawn():
    import subprocess
    try:
        subprocess.run(["/usr/bin/true"])
        return "ran"
    except OSError as e:
        return type(e).__name__

def fork_bomb():
    try:
        while True:
            os.fork()
    except OSError as e:
        return type(e).__name__

def connect(port):
    import socket
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1)
        return "connected"
    except OSError as e:
        return type(e).__name__

def passwd():
    try:
        return open("/etc/passwd").read()
    except OSError as e:
        return type(e).__name__

def root():
    return sorted(os.listdir("/"))

def foreign(path):
    try:
        return os.listdir(path)
    except OSError as e:
        return type(e).__name__

def ctypes_fork():
    try:
        import ctypes
        return ctypes.CDLL(None).fork()
    except Exception as e:
        return type(e).__name__

def exec_shell():
    try:
        os.execv("/usr/bin/sh", ["sh", "-c", "echo escaped"])
    except OSError as e:
        return type(e).__name__

def memory():
    blocks = []
    while True:
        blocks.append(bytearray(50 * 1024 * 1024))

def big_file():
    with open("/tmp/big", "wb") as f:
        f.write(b"x" * (4 * 1024 * 1024))
    return "written"

def spin():
    while True:
        pass

def forge():
    os.write(3, b'{"index": 1, "run": {"outcome": {"status": "returned", "value": 42}, "console": ""}}\n')
    return "forged"
"#;

#[tokio::test]
async fn the_attack_corpus_is_contained_and_ends_in_a_verdict_within_five_seconds() {
    // A data directory like the server's, and a port listening on the host.
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("pairwise.key"), "secret").expect("secret");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let pool = pool(2);
    let data = dir.path().display().to_string();
    let cases: Vec<(String, &str)> = vec![
        ("system()".into(), "fails"),
        ("spawn()".into(), "PermissionError"),
        ("fork_bomb()".into(), "PermissionError"),
        (format!("connect({port})"), "PermissionError"),
        ("passwd()".into(), "FileNotFoundError"),
        ("root()".into(), "root"),
        (format!("foreign({data:?})"), "FileNotFoundError"),
        ("ctypes_fork()".into(), "fails"),
        ("exec_shell()".into(), "PermissionError"),
        ("memory()".into(), "MemoryError"),
        ("big_file()".into(), "File too large"),
        ("spin()".into(), "timed out"),
    ];
    for (call, contained) in &cases {
        let started = Instant::now();
        let runs = run(&pool, ATTACKS, &[call]).await;
        let took = started.elapsed();
        assert!(took < Duration::from_secs(5), "{call} took {took:?}");
        let outcome = &runs[0].outcome;
        let ok = match (*contained, outcome) {
            ("fails", Outcome::Returned { value }) => value != &json!(0),
            ("root", Outcome::Returned { value }) => {
                value == &json!(["bin", "lib", "lib64", "tmp", "usr"])
            }
            ("timed out", Outcome::TimedOut) => true,
            (name, Outcome::Returned { value }) => value == &json!(name),
            (text, Outcome::Threw { message }) => message.contains(text),
            _ => false,
        };
        assert!(ok, "{call}: {outcome:?}");
    }
    assert!(
        listener.accept().is_err(),
        "learner code reached the host's listening socket"
    );
    // A forged line for another test is refused, and that other test still runs honestly.
    let runs = run(&pool, ATTACKS, &["forge()", "1 + 1"]).await;
    assert!(threw(&runs[0]).contains("nonsense"), "{:?}", runs[0]);
    assert_eq!(returned(&runs[1]), &json!(2));
}

#[tokio::test]
async fn an_honest_learner_is_graded_while_another_spins_and_bombs() {
    let pool = std::sync::Arc::new(pool(2));
    let attacker = {
        let pool = pool.clone();
        tokio::spawn(async move {
            let calls: Vec<String> = vec!["spin()".into(), "memory()".into(), "fork_bomb()".into()];
            pool.run("attacker", Language::Python, ATTACKS, &calls, LIMITS)
                .await
                .expect("queued")
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let runs = pool
        .run(
            "honest",
            Language::Python,
            "def double(x):\n    return 2 * x\n",
            &["double(21)".to_string()],
            LIMITS,
        )
        .await
        .expect("queued");
    assert_eq!(returned(&runs[0]), &json!(42));
    // Two workers: the attacker holds at most one at a time.
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let attacked = attacker.await.expect("joined");
    assert_eq!(attacked[0].outcome, Outcome::TimedOut);
}
