//! Watches the extract directories and says when a new extract is complete.
//!
//! An extract is complete when its `READY` file exists (the EPJ writes it last, and deletes
//! it before it replaces an extract: docs/export-format.md); a new one is a `READY` that was
//! not there before, or another file under that name. An IPLOS directory has no marker: a
//! new pair is files in it that have all stood unchanged for the settle time, and the
//! capture it starts takes them (`source::iplos::inbox`). The operating system's notifications
//! only wake the watcher early: they miss events on network shares and under bursts, so a
//! full scan on an interval is what guarantees nothing is missed. In `poll` mode the scan is
//! all there is.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use notify::{RecursiveMode, Watcher as _};
use tokio::sync::{Notify, mpsc, watch};

use crate::config::agent::Watch;
use crate::source::extract::READY;
use crate::source::iplos::inbox;

/// A directory the EPJ writes into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Watched {
    /// An extract directory, complete with `READY`.
    Extract(PathBuf),
    /// An IPLOS directory, whose files are taken once they have settled.
    Iplos { dir: PathBuf, settle: Duration },
}

impl Watched {
    fn dir(&self) -> &Path {
        match self {
            Watched::Extract(dir) | Watched::Iplos { dir, .. } => dir,
        }
    }

    /// What the directory holds now; `None` when nothing complete.
    fn state(&self) -> Option<State> {
        match self {
            Watched::Extract(dir) => fingerprint(dir).map(State::Ready),
            Watched::Iplos { dir, settle } => inbox::fingerprint(dir, *settle).map(State::Inbox),
        }
    }

    /// Files that have not settled yet: worth looking again after the settle time.
    fn settling(&self) -> Option<Duration> {
        match self {
            Watched::Extract(_) => None,
            Watched::Iplos { dir, settle } => (inbox::fingerprint(dir, Duration::ZERO).is_some()
                && inbox::fingerprint(dir, *settle).is_none())
            .then_some(*settle),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum State {
    Ready(Fingerprint),
    Inbox(Vec<(String, u64, SystemTime)>),
}

/// Which `READY` file a directory holds: another inode, size or time is another extract.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fingerprint {
    inode: u64,
    size: u64,
    modified: Option<SystemTime>,
}

fn fingerprint(dir: &Path) -> Option<Fingerprint> {
    let metadata = std::fs::metadata(dir.join(READY)).ok()?;
    Some(Fingerprint {
        inode: metadata.ino(),
        size: metadata.len(),
        modified: metadata.modified().ok(),
    })
}

/// After a notification, more usually follow (one per file): wait for them to settle.
const SETTLE: Duration = Duration::from_millis(500);

/// Runs until `shutdown`; calls `arrived.notify_one()` for each new complete extract.
pub async fn run(
    watched: Vec<Watched>,
    mode: Watch,
    scan_every: Duration,
    arrived: Arc<Notify>,
    mut shutdown: watch::Receiver<bool>,
) {
    if watched.is_empty() {
        return;
    }
    let dirs: Vec<PathBuf> = watched.iter().map(|w| w.dir().to_path_buf()).collect();
    let (events, mut woken) = mpsc::unbounded_channel::<()>();
    let mut os_watch = match mode {
        Watch::Notify => OsWatch::new(events),
        Watch::Poll => None,
    };
    let mut seen: HashMap<PathBuf, Option<State>> = watched
        .iter()
        .map(|w| (w.dir().to_path_buf(), w.state()))
        .collect();
    loop {
        if let Some(os_watch) = &mut os_watch {
            os_watch.cover(&dirs);
        }
        let wait = watched
            .iter()
            .filter_map(Watched::settling)
            .map(|settle| settle + SETTLE)
            .fold(scan_every, Duration::min);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            Some(()) = woken.recv() => {
                tokio::time::sleep(SETTLE).await;
                while woken.try_recv().is_ok() {}
            }
            _ = shutdown.changed() => return,
        }
        for watched in &watched {
            let now = watched.state();
            let before = seen.insert(watched.dir().to_path_buf(), now.clone());
            if now.is_some() && before != Some(now) {
                tracing::info!(dir = %watched.dir().display(), "a new extract is complete");
                arrived.notify_one();
            }
        }
    }
}

/// The operating system's notifications on each directory, set up again whenever a
/// directory appears or is replaced.
struct OsWatch {
    watcher: notify::RecommendedWatcher,
    /// Each watched directory and the inode it had when the watch began.
    watched: HashMap<PathBuf, u64>,
}

impl OsWatch {
    fn new(events: mpsc::UnboundedSender<()>) -> Option<OsWatch> {
        // Any event, or an error such as a lost event, means: scan now.
        let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            let _ = events.send(());
        });
        match watcher {
            Ok(watcher) => Some(OsWatch {
                watcher,
                watched: HashMap::new(),
            }),
            Err(e) => {
                tracing::warn!(
                    "cannot watch the extract directories ({e}); scanning them on the interval only"
                );
                None
            }
        }
    }

    fn cover(&mut self, dirs: &[PathBuf]) {
        for dir in dirs {
            let inode = std::fs::metadata(dir).ok().map(|m| m.ino());
            if self.watched.get(dir).copied() == inode && inode.is_some() {
                continue;
            }
            if self.watched.remove(dir).is_some() {
                let _ = self.watcher.unwatch(dir);
            }
            let Some(inode) = inode else { continue };
            match self.watcher.watch(dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    self.watched.insert(dir.clone(), inode);
                }
                Err(e) => tracing::warn!(
                    dir = %dir.display(),
                    "cannot watch the extract directory ({e}); it is scanned on the interval"
                ),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the watcher on `dir` in `mode`, lets `change` happen, and counts the extracts
    /// it announces within `within`.
    async fn announced(mode: Watch, scan_every: Duration, change: impl FnOnce(&Path)) -> usize {
        let dir = tempfile::tempdir().unwrap();
        let extract = dir.path().join("extract");
        std::fs::create_dir(&extract).unwrap();
        std::fs::write(extract.join(READY), "").unwrap();
        let arrived = Arc::new(Notify::new());
        let (stop, shutdown) = watch::channel(false);
        let watching = tokio::spawn(run(
            vec![Watched::Extract(extract.clone())],
            mode,
            scan_every,
            arrived.clone(),
            shutdown,
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        change(&extract);
        let mut count = 0;
        while tokio::time::timeout(Duration::from_secs(2), arrived.notified())
            .await
            .is_ok()
        {
            count += 1;
        }
        stop.send(true).unwrap();
        watching.await.unwrap();
        count
    }

    /// The EPJ's way to replace an extract: `READY` away, the files, `READY` again.
    fn replace(extract: &Path) {
        std::fs::remove_file(extract.join(READY)).unwrap();
        std::fs::write(extract.join("persons.csv"), "person_id\n").unwrap();
        std::fs::write(extract.join(READY), "").unwrap();
    }

    #[tokio::test]
    async fn the_os_tells_of_a_new_extract_long_before_the_scan() {
        assert_eq!(
            announced(Watch::Notify, Duration::from_secs(3600), replace).await,
            1
        );
    }

    #[tokio::test]
    async fn polling_finds_a_new_extract_by_scanning() {
        assert_eq!(
            announced(Watch::Poll, Duration::from_millis(300), replace).await,
            1
        );
    }

    #[tokio::test]
    async fn an_extract_without_ready_is_not_taken() {
        let half = |extract: &Path| {
            std::fs::remove_file(extract.join(READY)).unwrap();
            std::fs::write(extract.join("persons.csv"), "person_id\n").unwrap();
        };
        assert_eq!(
            announced(Watch::Poll, Duration::from_millis(300), half).await,
            0
        );
        assert_eq!(
            announced(Watch::Notify, Duration::from_millis(300), half).await,
            0
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_replaced_directory_is_watched_again() {
        let swap_then_replace = |extract: &Path| {
            let new = extract.with_extension("new");
            std::fs::create_dir(&new).unwrap();
            std::fs::write(new.join(READY), "").unwrap();
            std::fs::remove_dir_all(extract).unwrap();
            std::fs::rename(&new, extract).unwrap();
            std::thread::sleep(Duration::from_millis(1500));
            replace(extract);
        };
        let scan_never = Duration::from_secs(3600);
        assert_eq!(
            announced(Watch::Notify, scan_never, swap_then_replace).await,
            2
        );
    }

    /// An IPLOS directory: a pair announced once it has stood for the settle time (the OS
    /// event comes at once; the watcher looks again after the settle time), not before.
    #[tokio::test]
    async fn an_iplos_pair_is_announced_once_it_has_settled() {
        let dir = tempfile::tempdir().unwrap();
        let inbox = dir.path().join("inbox");
        std::fs::create_dir(&inbox).unwrap();
        let arrived = Arc::new(Notify::new());
        let (stop, shutdown) = watch::channel(false);
        let settle = Duration::from_millis(1500);
        let watching = tokio::spawn(run(
            vec![Watched::Iplos {
                dir: inbox.clone(),
                settle,
            }],
            Watch::Notify,
            Duration::from_secs(3600),
            arrived.clone(),
            shutdown,
        ));
        tokio::time::sleep(Duration::from_millis(200)).await;
        std::fs::write(inbox.join("a.xml"), "<Melding/>").unwrap();
        std::fs::write(inbox.join("b.xml"), "<IPLOS/>").unwrap();
        let early = tokio::time::timeout(Duration::from_millis(900), arrived.notified()).await;
        assert!(early.is_err(), "announced before it settled");
        let settled = tokio::time::timeout(Duration::from_secs(4), arrived.notified()).await;
        assert!(settled.is_ok(), "not announced after the settle time");
        stop.send(true).unwrap();
        watching.await.unwrap();
    }
}
