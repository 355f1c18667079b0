//! Child processes for the end-to-end tests: the examples cargo built, their first line of
//! output, and a handle that stops them.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, SystemTime};

/// A child process, killed on drop.
#[allow(dead_code)]
pub(crate) struct Process(pub(crate) Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `target/<profile>/examples/<name>`. `cargo test` builds the examples, `cargo test --test
/// X` does not: a binary older than the crate's sources or its own is refused rather than
/// tested stale.
pub(crate) fn example(name: &str) -> PathBuf {
    let mut dir = std::env::current_exe().unwrap();
    dir.pop(); // the test binary
    if dir.ends_with("deps") {
        dir.pop();
    }
    let binary = dir.join("examples").join(name);
    let built = std::fs::metadata(&binary)
        .and_then(|m| m.modified())
        .unwrap_or_else(|_| {
            panic!(
                "{} is missing: run `cargo build --example {name}`",
                binary.display()
            )
        });
    let sources = sources_of(&binary, name);
    assert!(
        built >= sources,
        "{} is older than its sources: run `cargo build --example {name}`",
        binary.display()
    );
    binary
}

/// The newest of the files cargo built `binary` from, as its dep-info file (`<binary>.d`)
/// lists them (a test-only module of the crate is not among them); without one, the newest
/// file of the crate's `src/` and of the example's source.
fn sources_of(binary: &Path, name: &str) -> SystemTime {
    if let Ok(text) = std::fs::read_to_string(binary.with_extension("d")) {
        if let Some((_, deps)) = text.lines().next().and_then(|l| l.split_once(": ")) {
            let mut latest = SystemTime::UNIX_EPOCH;
            let mut path = String::new();
            for part in deps.split(' ') {
                // A space inside a path is written `\ `.
                if let Some(head) = part.strip_suffix('\\') {
                    path.push_str(head);
                    path.push(' ');
                    continue;
                }
                path.push_str(part);
                if !path.is_empty() {
                    latest = latest.max(newest(Path::new(&path)));
                }
                path.clear();
            }
            return latest;
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    newest(&root.join("src")).max(newest(&root.join("examples").join(format!("{name}.rs"))))
}

fn newest(path: &Path) -> SystemTime {
    let Ok(meta) = std::fs::metadata(path) else {
        return SystemTime::UNIX_EPOCH;
    };
    if !meta.is_dir() {
        return meta.modified().unwrap();
    }
    std::fs::read_dir(path)
        .unwrap()
        .map(|e| newest(&e.unwrap().path()))
        .max()
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The first line a child prints on stdout, within `limit`; the rest of its output is
/// drained (a child writing to a closed pipe may die of it).
pub(crate) fn first_line(child: &mut Child, limit: Duration) -> String {
    let stdout = child.stdout.take().expect("piped stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        let _ = reader.read_line(&mut line);
        let _ = tx.send(line);
        let _ = std::io::copy(&mut reader, &mut std::io::sink());
    });
    rx.recv_timeout(limit)
        .expect("the child printed its first line in time")
}
