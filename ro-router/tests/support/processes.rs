//! Hanging a server's processes for a while (SIGSTOP, then SIGCONT when the guard drops), as a
//! frozen VM or a stuck disk would.

use std::process::Stdio;

/// A server hung by [`Cluster::freeze`]; dropping it lets the server run again.
#[derive(Debug)]
pub struct Frozen {
    postmaster: u32,
    backends: Vec<u32>,
}

impl Frozen {
    /// Stops `postmaster`, then every backend it has forked (once stopped it forks no new one).
    pub fn stop(postmaster: u32) -> Frozen {
        assert!(signal("STOP", &[postmaster]), "kill -STOP {postmaster} failed");
        let backends = children(postmaster);
        assert!(signal("STOP", &backends), "kill -STOP {backends:?} failed");
        Frozen { postmaster, backends }
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        // Never panics (it runs while a failed test unwinds); a backend that ended meanwhile
        // only makes `kill` report it.
        signal("CONT", &self.backends);
        signal("CONT", &[self.postmaster]);
    }
}

/// The processes whose parent is `parent` (from /proc).
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else { return Vec::new() };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            // /proc/PID/stat: "pid (comm) state ppid ...": comm may hold spaces, so split after ')'.
            std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().is_some_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok())
                    == Some(parent)
            })
        })
        .collect()
}

/// Sends SIG`name` to `pids`; true when every one got it.
fn signal(name: &str, pids: &[u32]) -> bool {
    if pids.is_empty() {
        return true;
    }
    let mut kill = std::process::Command::new("kill");
    kill.arg(format!("-{name}")).args(pids.iter().map(u32::to_string)).stderr(Stdio::null());
    kill.status().is_ok_and(|s| s.success())
}
