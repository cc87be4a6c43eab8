//! How the grader process takes away its own reach before it reads learner code.
//!
//! Layers, outermost first; each one that the kernel refuses is reported (the server logs the
//! report loudly at start-up, see `server::grading::GraderPool::check_confinement`) and the
//! rest still apply:
//! 1. Linux namespaces — user, mount, network, pid, IPC, UTS — entered by the process the
//!    server starts, which then runs the engine in a child: the first process of the new pid
//!    namespace, which sees no other process. The child replaces its root with an empty,
//!    read-only tmpfs: no file of the host (the data directory, `/etc/passwd`) has a path
//!    there, and the only network is a loopback that is down.
//! 2. No capabilities left in that user namespace (bounding, ambient, inheritable, effective,
//!    permitted all cleared), and no new privileges ever (set with the seccomp filter).
//! 3. A seccomp filter over every thread: only the system calls a Boa engine computing in
//!    memory needs — reading its job, writing its results, memory, futexes, clocks, random
//!    numbers, ending. Opening files, sockets, new processes, mounts and the rest fail with
//!    EPERM; mapping or re-protecting memory as executable fails too (Boa is an interpreter).
//!
//! `rlimit` limits (address space, CPU, file size 0, no core dumps, 8 descriptors) come on top,
//! in `main.rs`.

use std::collections::BTreeMap;

use nix::{
    mount::{MntFlags, MsFlags, mount, umount2},
    sched::{CloneFlags, unshare},
    sys::{prctl::set_pdeathsig, signal::Signal},
    unistd::{chdir, getgid, getuid, pivot_root},
};
use seccompiler::{
    BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule,
};

/// Where the process stands after [`enter_namespaces`].
pub enum Entered {
    /// In new namespaces: run the rest in a child (the new pid namespace's first process).
    Namespaces,
    /// The kernel refused; confine this process as it is.
    Refused(String),
}

/// Enters new user, mount, network, pid, IPC and UTS namespaces, mapping the caller's user and
/// group to root inside, so the child started next keeps its capabilities over these
/// namespaces (and none outside them) across `exec`. Must run while the process has one
/// thread: the kernel refuses a new user namespace to a multi-threaded process.
pub fn enter_namespaces() -> Entered {
    let namespaces = CloneFlags::CLONE_NEWUSER
        | CloneFlags::CLONE_NEWNS
        | CloneFlags::CLONE_NEWNET
        | CloneFlags::CLONE_NEWPID
        | CloneFlags::CLONE_NEWIPC
        | CloneFlags::CLONE_NEWUTS;
    let (uid, gid) = (getuid(), getgid());
    if let Err(e) = unshare(namespaces) {
        // Containers often refuse user namespaces; seccomp and the limits still hold.
        return Entered::Refused(format!(
            "new namespaces refused ({e}): learner code runs with the server's view of files \
             and network, kept out by seccomp and limits only"
        ));
    }
    let maps = [
        ("/proc/self/setgroups", "deny".to_string()),
        ("/proc/self/uid_map", format!("0 {uid} 1")),
        ("/proc/self/gid_map", format!("0 {gid} 1")),
    ];
    for (file, map) in maps {
        // Without the maps the child runs as "nobody" with no capabilities and cannot build
        // its empty root; it reports that itself.
        let _ = std::fs::write(file, map);
    }
    Entered::Namespaces
}

/// In the child, first thing: it dies with the process the server started (and may kill).
pub fn die_with_parent() -> Result<(), String> {
    set_pdeathsig(Signal::SIGKILL).map_err(|e| format!("prctl(PDEATHSIG): {e}"))
}

/// Builds the empty root; returns what failed.
pub fn isolate() -> Vec<String> {
    match empty_root() {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!(
            "namespaces entered but the empty root failed ({e}): the host's files stay \
             visible, kept out by seccomp only"
        )],
    }
}

/// Replaces the root with a fresh read-only tmpfs and detaches the old one entirely.
fn empty_root() -> Result<(), String> {
    let none: Option<&str> = None;
    // Nothing done below may propagate back to the host's mounts.
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making mounts private: {e}"))?;
    // Any existing directory serves as the mount point; the host's stays untouched.
    let at = "/tmp";
    mount(
        Some("tmpfs"),
        at,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=4k,nr_inodes=2,mode=0555"),
    )
    .map_err(|e| format!("mounting an empty tmpfs on {at}: {e}"))?;
    chdir(at).map_err(|e| format!("entering {at}: {e}"))?;
    // Stacks the old root under the new one at the same place, then cuts it loose: afterwards
    // no path, `..` or `/proc` reaches a host file.
    pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the old root: {e}"))?;
    chdir("/").map_err(|e| format!("entering the new root: {e}"))?;
    mount(
        none,
        "/",
        none,
        MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY,
        none,
    )
    .map_err(|e| format!("making the new root read-only: {e}"))?;
    Ok(())
}

/// Clears every capability set. Inside a new user namespace the process holds all of them
/// (over its own namespaces only); nothing the engine does needs any.
pub fn drop_capabilities() -> Vec<String> {
    use caps::CapSet;
    let mut warnings = Vec::new();
    // The bounding set first: dropping from it needs CAP_SETPCAP, gone with the effective set.
    for set in [
        CapSet::Bounding,
        CapSet::Ambient,
        CapSet::Inheritable,
        CapSet::Effective,
        CapSet::Permitted,
    ] {
        if let Err(e) = caps::clear(None, set) {
            warnings.push(format!("clearing the {set:?} capabilities failed: {e}"));
        }
    }
    warnings
}

/// System calls the grader makes once its engine thread is running, from `strace -f` of real
/// jobs: I/O on its pipes, memory, thread parking, clocks, random seeds, signals for a panic
/// or an abort, and exit.
const ALLOWED: &[i64] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_close,
    libc::SYS_brk,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_gettimeofday,
    libc::SYS_getrandom,
    libc::SYS_sched_yield,
    libc::SYS_sched_getaffinity,
    libc::SYS_getpid,
    libc::SYS_gettid,
    libc::SYS_getcwd,
    libc::SYS_rseq,
    libc::SYS_set_robust_list,
    libc::SYS_sigaltstack,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    // Lowering its own CPU limit once the job says how long it may take (raising a hard
    // limit needs a capability it no longer has).
    libc::SYS_prlimit64,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// Installs the filter on every thread of the process (seccomp's TSYNC), with no new
/// privileges. Afterwards no thread can open a file or a socket, start a process or map
/// executable memory.
pub fn seccomp() -> Result<(), String> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> =
        ALLOWED.iter().map(|&call| (call, Vec::new())).collect();
    // Memory may be mapped and re-protected, never as executable.
    let not_exec = || -> Result<Vec<SeccompRule>, String> {
        let condition = SeccompCondition::new(
            2,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )
        .map_err(|e| e.to_string())?;
        Ok(vec![
            SeccompRule::new(vec![condition]).map_err(|e| e.to_string())?,
        ])
    };
    rules.insert(libc::SYS_mmap, not_exec()?);
    // A panic's abort signals this process only, never another one of the same user.
    let own_pid = SeccompCondition::new(
        0,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::Eq,
        u64::from(std::process::id()),
    )
    .map_err(|e| e.to_string())?;
    rules.insert(
        libc::SYS_tgkill,
        vec![SeccompRule::new(vec![own_pid]).map_err(|e| e.to_string())?],
    );
    rules.insert(libc::SYS_mprotect, not_exec()?);
    let arch = std::env::consts::ARCH
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(|e| e.to_string())?;
    let program: BpfProgram = filter
        .try_into()
        .map_err(|e: seccompiler::BackendError| e.to_string())?;
    seccompiler::apply_filter_all_threads(&program).map_err(|e| e.to_string())
}
