//! The demo's directory: a new one under the system's temporary directory, or one the user
//! names — empty, or an earlier demo's, which is emptied. Anything else is refused, so that
//! a mistyped `--dir` never clears someone's files.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// The file that marks a directory as a demo's: only such a directory is ever emptied.
pub const MARKER: &str = ".kpr-bridge-demo";

#[derive(Debug, thiserror::Error)]
pub enum DirectoryError {
    #[error(
        "--dir {}: the directory is not empty and holds no earlier demo (no {MARKER} in it); give a new or empty directory, or leave out --dir for a new one under the temporary directory",
        .0.display()
    )]
    NotEmpty(PathBuf),
    #[error("--dir {}: {source}; give a directory the demo may create and write in", path.display())]
    Unusable { path: PathBuf, source: io::Error },
}

/// The directory to run in: made, or emptied if an earlier demo's, and marked. Absolute.
pub fn prepare(chosen: Option<&Path>) -> Result<PathBuf, DirectoryError> {
    let unusable = |path: &Path| {
        let path = path.to_path_buf();
        move |source| DirectoryError::Unusable { path, source }
    };
    let dir = match chosen {
        None => tempfile::Builder::new()
            .prefix("kpr-bridge-demo-")
            .tempdir()
            .map_err(unusable(&std::env::temp_dir()))?
            .keep(),
        Some(dir) => {
            match fs::read_dir(dir) {
                Ok(mut entries) => {
                    if entries.next().is_some() {
                        if !dir.join(MARKER).is_file() {
                            return Err(DirectoryError::NotEmpty(dir.to_path_buf()));
                        }
                        empty(dir).map_err(unusable(dir))?;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    fs::create_dir_all(dir).map_err(unusable(dir))?;
                }
                Err(e) => return Err(unusable(dir)(e)),
            }
            dir.to_path_buf()
        }
    };
    fs::write(
        dir.join(MARKER),
        "made by `kpr-bridge demo`; a later demo may empty this directory\n",
    )
    .map_err(unusable(&dir))?;
    std::path::absolute(&dir).map_err(unusable(&dir))
}

/// Removes everything in `dir`; symbolic links are removed, never followed.
fn empty(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            fs::remove_dir_all(entry.path())?;
        } else {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_or_new_directory_is_used_and_marked() {
        let root = tempfile::tempdir().unwrap();
        for dir in [root.path().to_path_buf(), root.path().join("new/demo")] {
            let prepared = prepare(Some(&dir)).unwrap();
            assert!(prepared.is_absolute());
            assert!(dir.join(MARKER).is_file());
        }
    }

    #[test]
    fn an_earlier_demo_is_emptied_and_anything_else_refused() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path();
        fs::write(dir.join("precious.txt"), "keep me").unwrap();
        let error = prepare(Some(dir)).unwrap_err().to_string();
        assert!(error.contains(&dir.display().to_string()), "{error}");
        assert!(dir.join("precious.txt").exists());

        fs::remove_file(dir.join("precious.txt")).unwrap();
        prepare(Some(dir)).unwrap();
        fs::create_dir_all(dir.join("state/outbox")).unwrap();
        fs::write(dir.join("state/outbox/x.p7m"), "x").unwrap();
        prepare(Some(dir)).unwrap();
        let left: Vec<_> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, [MARKER]);
    }

    #[test]
    fn a_file_is_not_a_directory() {
        let root = tempfile::tempdir().unwrap();
        let file = root.path().join("file");
        fs::write(&file, "").unwrap();
        assert!(matches!(
            prepare(Some(&file)),
            Err(DirectoryError::Unusable { .. })
        ));
    }
}
