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
    start_root("size=4k,nr_inodes=2,mode=0555")?;
    enter_root("/")?;
    read_only("/", MsFlags::empty())
}

/// Makes every mount private to this namespace (nothing done here propagates back to the
/// host) and mounts a fresh tmpfs with `options`, to become the root, entering it.
fn start_root(options: &str) -> Result<(), String> {
    let none: Option<&str> = None;
    mount(none, "/", none, MsFlags::MS_REC | MsFlags::MS_PRIVATE, none)
        .map_err(|e| format!("making mounts private: {e}"))?;
    // Any existing directory serves as the mount point; the host's stays untouched.
    let at = "/tmp";
    mount(
        Some("tmpfs"),
        at,
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some(options),
    )
    .map_err(|e| format!("mounting a new root on {at}: {e}"))?;
    chdir(at).map_err(|e| format!("entering {at}: {e}"))
}

/// Makes the directory entered by [`start_root`] the root and cuts the old one loose:
/// afterwards no path, `..` or `/proc` reaches a host file. Ends in `dir` of the new root.
fn enter_root(dir: &str) -> Result<(), String> {
    // Stacks the old root under the new one at the same place, then detaches it.
    pivot_root(".", ".").map_err(|e| format!("pivot_root: {e}"))?;
    umount2(".", MntFlags::MNT_DETACH).map_err(|e| format!("detaching the old root: {e}"))?;
    chdir(dir).map_err(|e| format!("entering {dir}: {e}"))
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

/// The root a Python test runs in: the host's `/usr` read-only (the interpreter, its standard
/// library and the shared libraries it loads), `bin`, `lib` and `lib64` as links into it, and
/// a private writable `/tmp` (a small tmpfs, nothing executable). No `/etc`, `/proc`, `/dev`,
/// `/home` or data directory: those have no path here.
pub fn python_root() -> Result<(), String> {
    let none: Option<&str> = None;
    start_root("size=64k,nr_inodes=16,mode=0755")?;
    for dir in ["usr", "tmp"] {
        std::fs::create_dir(dir).map_err(|e| format!("creating /{dir}: {e}"))?;
    }
    for (link, target) in [
        ("bin", "usr/bin"),
        ("lib", "usr/lib"),
        ("lib64", "usr/lib64"),
    ] {
        std::os::unix::fs::symlink(target, link).map_err(|e| format!("linking /{link}: {e}"))?;
    }
    mount(
        Some("/usr"),
        "usr",
        none,
        MsFlags::MS_BIND | MsFlags::MS_REC,
        none,
    )
    .map_err(|e| format!("showing /usr: {e}"))?;
    // Read-only; whatever the host's mount locks (atime, nosuid…) is kept by the kernel.
    read_only("usr", MsFlags::MS_NOSUID | MsFlags::MS_NODEV)?;
    mount(
        Some("tmpfs"),
        "tmp",
        Some("tmpfs"),
        MsFlags::MS_NOSUID | MsFlags::MS_NODEV | MsFlags::MS_NOEXEC,
        Some("size=16m,nr_inodes=256,mode=0700"),
    )
    .map_err(|e| format!("mounting a private /tmp: {e}"))?;
    enter_root("/tmp")?;
    read_only("/", MsFlags::empty())
}

/// Remounts the bind mount at `path` read-only with `extra` flags, keeping the flags the
/// mount already has (a user namespace may not clear a flag its parent set).
fn read_only(path: &str, extra: MsFlags) -> Result<(), String> {
    use nix::sys::statvfs::{FsFlags, statvfs};
    let none: Option<&str> = None;
    let have = statvfs(path)
        .map_err(|e| format!("statvfs {path}: {e}"))?
        .flags();
    let mut flags = MsFlags::MS_REMOUNT | MsFlags::MS_BIND | MsFlags::MS_RDONLY | extra;
    for (fs, ms) in [
        (FsFlags::ST_NOSUID, MsFlags::MS_NOSUID),
        (FsFlags::ST_NODEV, MsFlags::MS_NODEV),
        (FsFlags::ST_NOEXEC, MsFlags::MS_NOEXEC),
        (FsFlags::ST_NOATIME, MsFlags::MS_NOATIME),
        (FsFlags::ST_NODIRATIME, MsFlags::MS_NODIRATIME),
        (FsFlags::ST_RELATIME, MsFlags::MS_RELATIME),
    ] {
        if have.contains(fs) {
            flags |= ms;
        }
    }
    mount(none, path, none, flags, none).map_err(|e| format!("making {path} read-only: {e}"))
}

/// System calls CPython makes running the harness, from `strace -f` of the demo exercises and
/// the standard library's common modules: files (only `/usr` and the private `/tmp` exist),
/// memory, clocks, signals, identity, exit. Not here, so EPERM: sockets, new processes or
/// threads (`clone`, `fork`, `vfork`), `kill`, `ptrace`, mounts, namespaces, `bpf`, `io_uring`
/// and everything else.
const PYTHON_ALLOWED: &[i64] = &[
    libc::SYS_read,
    libc::SYS_write,
    libc::SYS_readv,
    libc::SYS_writev,
    libc::SYS_pread64,
    libc::SYS_pwrite64,
    libc::SYS_close,
    libc::SYS_lseek,
    libc::SYS_openat,
    libc::SYS_open,
    libc::SYS_newfstatat,
    libc::SYS_fstat,
    libc::SYS_stat,
    libc::SYS_lstat,
    libc::SYS_statx,
    libc::SYS_access,
    libc::SYS_faccessat,
    libc::SYS_faccessat2,
    libc::SYS_readlink,
    libc::SYS_readlinkat,
    libc::SYS_getdents64,
    libc::SYS_getcwd,
    libc::SYS_chdir,
    libc::SYS_fcntl,
    libc::SYS_dup,
    libc::SYS_dup2,
    libc::SYS_dup3,
    libc::SYS_unlink,
    libc::SYS_unlinkat,
    libc::SYS_mkdir,
    libc::SYS_mkdirat,
    libc::SYS_rmdir,
    libc::SYS_rename,
    libc::SYS_renameat,
    libc::SYS_renameat2,
    libc::SYS_ftruncate,
    libc::SYS_fsync,
    libc::SYS_fdatasync,
    libc::SYS_umask,
    libc::SYS_brk,
    libc::SYS_munmap,
    libc::SYS_mremap,
    libc::SYS_madvise,
    libc::SYS_futex,
    libc::SYS_set_tid_address,
    libc::SYS_set_robust_list,
    libc::SYS_rseq,
    libc::SYS_arch_prctl,
    libc::SYS_prlimit64,
    libc::SYS_getrandom,
    libc::SYS_clock_gettime,
    libc::SYS_clock_getres,
    libc::SYS_clock_nanosleep,
    libc::SYS_nanosleep,
    libc::SYS_gettimeofday,
    libc::SYS_getpid,
    libc::SYS_getppid,
    libc::SYS_gettid,
    libc::SYS_getuid,
    libc::SYS_geteuid,
    libc::SYS_getgid,
    libc::SYS_getegid,
    libc::SYS_uname,
    libc::SYS_sysinfo,
    libc::SYS_sched_getaffinity,
    libc::SYS_sched_yield,
    libc::SYS_getrusage,
    libc::SYS_times,
    libc::SYS_rt_sigaction,
    libc::SYS_rt_sigprocmask,
    libc::SYS_rt_sigreturn,
    libc::SYS_sigaltstack,
    libc::SYS_exit,
    libc::SYS_exit_group,
];

/// The filter a Python test runs under (installed just before `exec`, inherited by it, with no
/// new privileges). Beyond [`PYTHON_ALLOWED`]: `execve` only of `python` — the very string the
/// grader passes, compared by address, which code in the new program cannot reproduce — so
/// the interpreter starts and nothing else ever does; executable memory only mapped from a
/// file (the interpreter's libraries: `/usr` is the only place with executable files, `/tmp`
/// is `noexec`), never anonymous or re-protected; `ioctl` only to ask whether a descriptor is
/// a terminal; signals only to itself.
pub fn python_seccomp(python: &std::ffi::CStr) -> Result<(), String> {
    let err = |e: seccompiler::BackendError| e.to_string();
    let rule = |conditions: Vec<SeccompCondition>| SeccompRule::new(conditions).map_err(err);
    let cond = |arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64| {
        SeccompCondition::new(arg, len, op, value).map_err(err)
    };
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = PYTHON_ALLOWED
        .iter()
        .map(|&call| (call, Vec::new()))
        .collect();
    let no_exec = || {
        cond(
            2,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(libc::PROT_EXEC as u64),
            0,
        )
    };
    let from_file = cond(
        3,
        SeccompCmpArgLen::Dword,
        SeccompCmpOp::MaskedEq(libc::MAP_ANONYMOUS as u64),
        0,
    )?;
    rules.insert(
        libc::SYS_mmap,
        vec![rule(vec![no_exec()?])?, rule(vec![from_file])?],
    );
    rules.insert(libc::SYS_mprotect, vec![rule(vec![no_exec()?])?]);
    rules.insert(
        libc::SYS_execve,
        vec![rule(vec![cond(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::Eq,
            python.as_ptr() as u64,
        )?])?],
    );
    rules.insert(
        libc::SYS_ioctl,
        vec![rule(vec![cond(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::Eq,
            libc::TCGETS,
        )?])?],
    );
    // After exec the interpreter is the namespace's first process: its own pid is 1.
    let own = |arg: u8| cond(arg, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, 1);
    rules.insert(libc::SYS_tgkill, vec![rule(vec![own(0)?])?]);
    let arch = std::env::consts::ARCH.try_into().map_err(err)?;
    let filter = SeccompFilter::new(
        rules,
        SeccompAction::Errno(libc::EPERM as u32),
        SeccompAction::Allow,
        arch,
    )
    .map_err(err)?;
    let program: BpfProgram = filter.try_into().map_err(err)?;
    seccompiler::apply_filter(&program).map_err(|e| e.to_string())
}
