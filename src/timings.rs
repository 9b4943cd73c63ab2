//! Wall-clock and CPU time per phase of a run, and the resident memory at its end (`--timings`,
//! or `RO_AUDIT_TIMINGS=1`), for finding where a run spends its time and memory. Only measures:
//! never changes what a run reports, and is printed on stderr, never in a report.

use std::fmt;
use std::time::{Duration, Instant};

/// One phase: its name, how long it took, the resident memory when it ended (MiB; Linux only).
pub type Phase = (&'static str, Duration, Option<u64>);

/// Clock ticks per second of `/proc/self/stat`'s CPU times (`USER_HZ`, 100 on every Linux
/// architecture that ro-audit runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// The phases of one run, in the order they ended.
#[derive(Debug, Clone)]
pub struct Timings {
    phases: Vec<Phase>,
    /// The CPU time (user + system, all threads) each phase took, in seconds (Linux only).
    cpu: Vec<Option<f64>>,
    lap: Instant,
    lap_cpu: Option<f64>,
}

impl Default for Timings {
    fn default() -> Timings {
        Timings { phases: Vec::new(), cpu: Vec::new(), lap: Instant::now(), lap_cpu: cpu_seconds() }
    }
}

impl Timings {
    /// Starts timing now.
    pub fn start() -> Timings {
        Timings::default()
    }

    /// Ends phase `name`: the time since the previous phase ended (or since the start).
    pub fn lap(&mut self, name: &'static str) {
        let now = Instant::now();
        let cpu = cpu_seconds();
        self.phases.push((name, now - self.lap, resident_mib()));
        self.cpu.push(cpu.zip(self.lap_cpu).map(|(now, then)| now - then));
        self.lap = now;
        self.lap_cpu = cpu;
    }

    /// The phases, in order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// Whether the environment asks for timings (`RO_AUDIT_TIMINGS` set to anything but
    /// empty or `0`).
    pub fn wanted_by_env() -> bool {
        std::env::var_os("RO_AUDIT_TIMINGS").is_some_and(|v| !v.is_empty() && v != "0")
    }
}

/// The CPU time this process has used so far (user + system, every thread), in seconds (from
/// `/proc/self/stat`). A phase whose CPU time is close to its wall-clock time ran on one core.
fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) may hold spaces; the fields after its `)` are plain.
    let after = &stat[stat.rfind(')')? + 1..];
    let mut fields = after.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / TICKS_PER_SECOND)
}

/// The resident set size of this process now, in MiB (from `/proc/self/status`).
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line["VmRSS:".len()..].split_whitespace().next()?.parse().ok()?;
    Some(kib / 1024)
}

impl fmt::Display for Timings {
    /// One line per phase (`ro-audit: timing <phase> <seconds> s [cpu <seconds> s] [<MiB> MiB
    /// resident]`), then the total.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut total = Duration::ZERO;
        for ((name, took, rss), cpu) in self.phases.iter().zip(&self.cpu) {
            write!(f, "ro-audit: timing {name:<12} {:>8.3} s", took.as_secs_f64())?;
            if let Some(cpu) = cpu {
                write!(f, "  cpu {cpu:>7.2} s")?;
            }
            match rss {
                Some(mib) => writeln!(f, "  {mib:>6} MiB resident")?,
                None => writeln!(f)?,
            }
            total += *took;
        }
        writeln!(f, "ro-audit: timing {:<12} {:>8.3} s", "total", total.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_are_listed_in_order_with_a_total() {
        let mut t = Timings::start();
        t.lap("walk");
        t.lap("parse");
        let names: Vec<&str> = t.phases().iter().map(|(n, _, _)| *n).collect();
        assert_eq!(names, ["walk", "parse"]);
        let text = t.to_string();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("ro-audit: timing walk "), "{text}");
        assert!(lines[2].starts_with("ro-audit: timing total "), "{text}");
        assert!(lines[2].ends_with(" s"), "{text}");
        let resident = |l: &str| l.ends_with(" MiB resident") || l.ends_with(" s");
        assert!(lines.iter().all(|l| resident(l)), "{text}");
        if cfg!(target_os = "linux") {
            assert!(lines[0].contains(" s  cpu ") && lines[1].contains(" s  cpu "), "{text}");
            assert!(!lines[2].contains("cpu"), "{text}");
        }
    }
}
