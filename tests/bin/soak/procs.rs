//! The soak's processes: Redis (persisting every write, so a restart keeps sessions), `app dev`
//! and external workers, each logging to its own file; and what the soak reads of them (RSS,
//! open file descriptors, panics in their logs).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The binary with every test endpoint (`test-worker`), beside this one.
pub fn app_binary() -> PathBuf {
    let me = std::env::current_exe().expect("the soak's own path");
    me.with_file_name("test-worker")
}

/// A free loopback port.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A child process and its log file; killed when dropped.
pub struct Proc {
    pub name: String,
    pub log: PathBuf,
    cmd: Box<dyn Fn() -> Command + Send>,
    child: Option<Child>,
    /// Times it was started.
    pub starts: u32,
}

impl Proc {
    /// Starts `make()` with its output appended to `dir/name.log`.
    pub fn start(dir: &Path, name: &str, make: impl Fn() -> Command + Send + 'static) -> Proc {
        let mut p = Proc {
            name: name.to_string(),
            log: dir.join(format!("{name}.log")),
            cmd: Box::new(make),
            child: None,
            starts: 0,
        };
        p.spawn();
        p
    }

    fn spawn(&mut self) {
        let out = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .expect("a log file");
        let err = out.try_clone().expect("a log file");
        let child = (self.cmd)()
            .stdout(Stdio::from(out))
            .stderr(Stdio::from(err))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {}: {e}", self.name));
        self.child = Some(child);
        self.starts += 1;
    }

    /// The process id.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Kills it at once (SIGKILL), as a host that dies.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Asks it to stop (SIGTERM) and waits up to `grace`, then kills it.
    pub fn stop(&mut self, grace: Duration) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &c.id().to_string()])
                .status();
            let until = Instant::now() + grace;
            while Instant::now() < until {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Kills it and starts it again.
    pub fn restart(&mut self) {
        self.kill();
        self.spawn();
    }

    /// Whether it is still running.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Lines of its log that report a panic.
    pub fn panics(&self) -> Vec<String> {
        std::fs::read_to_string(&self.log)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("panicked"))
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A process's resident memory in kB and its open file descriptors.
pub fn usage(pid: u32) -> Option<(u64, usize)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count();
    Some((rss, fds))
}

/// Waits until something listens on `port`.
pub fn wait_port(port: u16, within: Duration) -> bool {
    let until = Instant::now() + within;
    while Instant::now() < until {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}
