//! Child processes (servers and workers) that stop with the benchmark: each runs in its own
//! process group, killed when its guard is dropped; our own `bench-app` also exits when its
//! parent dies ([`exit_with_parent`]), and the Python scripts do the same.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// This package's directory (`bench/`).
pub fn bench_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The workspace's root.
pub fn workspace_root() -> PathBuf {
    bench_dir()
        .parent()
        .expect("bench/ has a parent")
        .to_path_buf()
}

/// A Python script of `bench/python/`.
pub fn python_script(name: &str) -> PathBuf {
    bench_dir().join("python").join(name)
}

/// The Python with the official Runpod SDK: `$RUNPOD_PYTHON` (set by `scripts/prereqs.sh`),
/// else `target/python-venv/bin/python`. Panics with the fix when neither imports `runpod`:
/// the Python baselines are part of every table, a run without them is not a result.
pub fn python() -> PathBuf {
    let mut tried = Vec::new();
    let candidates = std::env::var_os("RUNPOD_PYTHON")
        .filter(|p| !p.is_empty())
        .map(PathBuf::from)
        .into_iter()
        .chain([workspace_root().join("target/python-venv/bin/python")]);
    for p in candidates {
        match runpod_version(&p) {
            Ok(v) => {
                if !v.starts_with("1.12") {
                    eprintln!(
                        "note: {} has runpod {v}; the issue's baselines were taken with 1.12",
                        p.display()
                    );
                }
                return p;
            }
            Err(e) => tried.push(e),
        }
    }
    panic!(
        "the benchmarks compare against the official Python SDK, and no Python with `runpod` \
         was found:\n  - {}\nFix: run `./scripts/bench.sh` (it sources scripts/prereqs.sh, which \
         creates target/python-venv with runpod 1.12), or set RUNPOD_PYTHON to a python where \
         `pip install 'runpod==1.12.*'` was done.",
        tried.join("\n  - ")
    )
}

/// `runpod`'s version, if `python` imports it.
pub fn runpod_version(python: &Path) -> Result<String, String> {
    let out = Command::new(python)
        .args(["-c", "import runpod; print(runpod.__version__)"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("{}: {e}", python.display()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{}: `import runpod` failed: {}",
            python.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// Makes this process exit when its parent dies (a benchmark killed mid-run leaves no server
/// or worker behind). One thread, asleep except for a check every 200 ms.
pub fn exit_with_parent() {
    let parent = std::os::unix::process::parent_id();
    std::thread::Builder::new()
        .name("exit-with-parent".into())
        .stack_size(64 * 1024)
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(200));
                if std::os::unix::process::parent_id() != parent {
                    std::process::exit(1);
                }
            }
        })
        .expect("a thread can start");
}

/// A child process in its own process group, with its output in a log file; killed (with
/// every process it started) when dropped.
pub struct Proc {
    child: Child,
    name: String,
    log: PathBuf,
}

impl Proc {
    /// Starts `cmd` as `name`.
    pub fn spawn(mut cmd: Command, name: &str) -> Proc {
        let log = std::env::temp_dir().join(format!(
            "endpoint-bench-{}-{}.log",
            std::process::id(),
            name.replace(|c: char| !c.is_ascii_alphanumeric(), "-")
        ));
        let out = std::fs::File::create(&log).expect("a log file in the temp dir");
        let child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::from(out.try_clone().expect("a second handle")))
            .stderr(Stdio::from(out))
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name} ({cmd:?}): {e}"));
        Proc {
            child,
            name: name.to_string(),
            log,
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The last lines of its output, for error messages.
    pub fn log_tail(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(&self.log) {
            let _ = f.read_to_string(&mut text);
        }
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines[lines.len().saturating_sub(40)..].join("\n");
        format!("--- {} output (tail) ---\n{tail}", self.name)
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.child.id())])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// One process of a tree: pid and resident memory.
#[derive(Debug, Clone)]
pub struct ProcMem {
    /// Process id.
    pub pid: u32,
    /// `VmRSS`, in kB.
    pub rss_kb: u64,
    /// `RssAnon`, in kB: the part of `VmRSS` the process allocated (heap, stacks, written
    /// data), as opposed to pages of its executable and libraries, which the page cache holds
    /// once for every process that maps them.
    pub anon_kb: u64,
}

/// `root` and all its descendants with their `VmRSS` and `RssAnon` (from `/proc`), root first.
pub fn tree_rss(root: u32) -> Vec<ProcMem> {
    let mut parents = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for e in dir.flatten() {
            let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // The command name may hold spaces and parentheses: the fields after the last ')'.
            let Some(ppid) = stat
                .rsplit_once(')')
                .and_then(|(_, rest)| rest.split_whitespace().nth(1))
                .and_then(|p| p.parse::<u32>().ok())
            else {
                continue;
            };
            parents.push((pid, ppid));
        }
    }
    let mut out = Vec::new();
    let mut todo = vec![root];
    while let Some(pid) = todo.pop() {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next())
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        };
        out.push(ProcMem {
            pid,
            rss_kb: field("VmRSS:"),
            anon_kb: field("RssAnon:"),
        });
        todo.extend(parents.iter().filter(|(_, pp)| *pp == pid).map(|(p, _)| *p));
    }
    out
}

/// CPU time (user + system, from `/proc/<pid>/stat`) of `root` and its descendants so far.
pub fn tree_cpu(root: u32) -> std::time::Duration {
    // Clock ticks per second: 100 on Linux (USER_HZ), whatever the kernel's HZ.
    const TICKS: u64 = 100;
    let ticks: u64 = tree_rss(root)
        .iter()
        .filter_map(|p| std::fs::read_to_string(format!("/proc/{}/stat", p.pid)).ok())
        .filter_map(|stat| {
            let rest = stat.rsplit_once(')')?.1.to_string();
            let f: Vec<&str> = rest.split_whitespace().collect();
            // After the name: state is field 3, utime 14 and stime 15 (1-based).
            Some(f.get(11)?.parse::<u64>().ok()? + f.get(12)?.parse::<u64>().ok()?)
        })
        .sum();
    std::time::Duration::from_millis(ticks * 1000 / TICKS)
}
