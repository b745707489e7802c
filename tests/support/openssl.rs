//! The `openssl` command line, as an independent peer of the project's CMS code.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs `openssl ARGS` with `input` on stdin; its stdout.
pub fn with_input(args: &[&str], dir: &Path, input: &[u8]) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
