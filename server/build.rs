//! Embeds the demo courses (`demo-courses/`) in the binary.
//!
//! Demo mode used to read them from the source folder by its build-time path, which broke as
//! soon as the binary ran anywhere else: installed on a server, or built in one checkout and
//! reused by another sharing the target directory (the e2e run then found no demo course).

// A build script that cannot read the folder should stop the build with the reason: panicking
// is how it reports that.
#![allow(clippy::expect_used, clippy::panic)]

use std::{
    fmt::Write as _,
    path::{Path, PathBuf},
};

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn main() {
    let root =
        Path::new(&std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo")).join("demo-courses");
    // A directory here makes cargo rerun this script when anything under it changes.
    println!("cargo::rerun-if-changed={}", root.display());
    let mut files = Vec::new();
    walk(&root, &mut files);
    let mut code = String::from("pub static DEMO_COURSE_FILES: &[(&str, &[u8])] = &[\n");
    for file in files {
        let relative = file.strip_prefix(&root).expect("under the root");
        let relative = relative.to_str().expect("demo course paths are UTF-8");
        writeln!(
            code,
            "    ({relative:?}, include_bytes!({:?})),",
            file.to_str().expect("UTF-8 path")
        )
        .expect("writing to a String");
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").expect("set by cargo")).join("demo_courses.rs");
    std::fs::write(out, code).expect("writing the demo course list");
}
