//! The process as Prometheus' client libraries describe it, read from
//! `/proc` at each scrape (Linux; elsewhere these samples are left out).

use super::exposition::{Kind, Page};

/// The process's figures at one moment; `None` where the system would not say.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Process {
    pub(crate) resident_bytes: Option<u64>,
    pub(crate) virtual_bytes: Option<u64>,
    pub(crate) cpu_seconds: Option<f64>,
    pub(crate) open_fds: Option<u64>,
    pub(crate) max_fds: Option<u64>,
    pub(crate) threads: Option<u64>,
}

impl Process {
    pub(crate) fn read() -> Self {
        let page = rustix::param::page_size() as u64;
        let statm = std::fs::read_to_string("/proc/self/statm").ok();
        let mut statm = statm
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .map(|n| n.parse::<u64>().ok());
        let virtual_bytes = statm.next().flatten().map(|p| p * page);
        let resident_bytes = statm.next().flatten().map(|p| p * page);
        let stat = std::fs::read_to_string("/proc/self/stat").ok();
        let (cpu_seconds, threads) = stat.as_deref().map_or((None, None), parse_stat);
        let open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|dir| dir.count() as u64);
        let max_fds = rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
        Self {
            resident_bytes,
            virtual_bytes,
            cpu_seconds,
            open_fds,
            max_fds,
            threads,
        }
    }

    pub(crate) fn write(&self, page: &mut Page, start_time: f64) {
        let figures = [
            (
                "process_resident_memory_bytes",
                Kind::Gauge,
                "Resident memory size in bytes.",
                self.resident_bytes.map(|v| v as f64),
            ),
            (
                "process_virtual_memory_bytes",
                Kind::Gauge,
                "Virtual memory size in bytes.",
                self.virtual_bytes.map(|v| v as f64),
            ),
            (
                "process_cpu_seconds_total",
                Kind::Counter,
                "Total user and system CPU time spent in seconds.",
                self.cpu_seconds,
            ),
            (
                "process_open_fds",
                Kind::Gauge,
                "Number of open file descriptors.",
                self.open_fds.map(|v| v as f64),
            ),
            (
                "process_max_fds",
                Kind::Gauge,
                "Maximum number of open file descriptors.",
                self.max_fds.map(|v| v as f64),
            ),
            (
                "process_threads",
                Kind::Gauge,
                "Number of OS threads in the process.",
                self.threads.map(|v| v as f64),
            ),
            (
                "process_start_time_seconds",
                Kind::Gauge,
                "Start time of the process since unix epoch in seconds.",
                Some(start_time),
            ),
        ];
        for (name, kind, help, value) in figures {
            if let Some(value) = value {
                page.single(name, kind, help, value);
            }
        }
    }
}

/// CPU seconds and threads from `/proc/self/stat`. The command name (field
/// 2) may hold spaces and parentheses, so fields are counted after its
/// last `)`: utime and stime are fields 14 and 15, num_threads field 20.
fn parse_stat(stat: &str) -> (Option<f64>, Option<u64>) {
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return (None, None);
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let ticks = rustix::param::clock_ticks_per_second() as f64;
    let cpu = match (field(14), field(15)) {
        (Some(user), Some(system)) if ticks > 0.0 => Some((user + system) as f64 / ticks),
        _ => None,
    };
    (cpu, field(20))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_the_command_name() {
        let stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 7 0 100 1000 10";
        let (cpu, threads) = parse_stat(stat);
        let ticks = rustix::param::clock_ticks_per_second() as f64;
        assert_eq!(cpu, Some(300.0 / ticks));
        assert_eq!(threads, Some(7));
        assert_eq!(parse_stat("garbage"), (None, None));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn this_process_has_memory_and_files() {
        let p = Process::read();
        assert!(p.resident_bytes.unwrap_or(0) > 0);
        assert!(p.open_fds.unwrap_or(0) > 0);
        assert!(p.threads.unwrap_or(0) >= 1);
    }
}
