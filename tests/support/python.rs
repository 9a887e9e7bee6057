//! The official Python worker SDK for the interop tests: a Python that imports `runpod` 1.12,
//! `$RUNPOD_PYTHON` or `target/python-venv` (created on first use, under a file lock).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The workspace's root (this file's package is `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// `runpod`'s version if `python` can import it.
fn runpod_version(python: &Path) -> Result<String, String> {
    let out = Command::new(python)
        .args(["-c", "import runpod; print(runpod.__version__)"])
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .map_err(|e| format!("{}: cannot run it: {e}", python.display()))?;
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

fn run_step(cmd: &mut Command, what: &str) -> Result<(), String> {
    let out = cmd
        .output()
        .map_err(|e| format!("{what}: cannot start it: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{what} failed ({}):\n{}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Finds a Python that imports `runpod`, creating `target/python-venv` if needed.
fn find_or_create_python() -> Result<PathBuf, String> {
    let mut tried = Vec::new();
    if let Some(p) = std::env::var_os("RUNPOD_PYTHON").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        match runpod_version(&p) {
            Ok(_) => return Ok(p),
            Err(e) => tried.push(format!("RUNPOD_PYTHON: {e}")),
        }
    }
    let target = workspace_root().join("target");
    let venv = target.join("python-venv");
    let python = venv.join("bin").join("python");
    // Other test processes (or scripts/prereqs.sh) may be creating the venv right now.
    std::fs::create_dir_all(&target).map_err(|e| format!("{}: {e}", target.display()))?;
    let lock_path = target.join("python-venv.lock");
    let lock =
        std::fs::File::create(&lock_path).map_err(|e| format!("{}: {e}", lock_path.display()))?;
    lock.lock()
        .map_err(|e| format!("locking {}: {e}", lock_path.display()))?;
    match runpod_version(&python) {
        Ok(_) => return Ok(python),
        Err(e) => tried.push(e),
    }
    eprintln!(
        "python_interop: creating {} with runpod 1.12 (first run only)",
        venv.display()
    );
    let created = (|| {
        if !python.exists() {
            run_step(
                Command::new("python3").arg("-m").arg("venv").arg(&venv),
                "python3 -m venv target/python-venv",
            )?;
        }
        run_step(
            Command::new(&python).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "runpod==1.12.*",
            ]),
            "pip install 'runpod==1.12.*'",
        )?;
        runpod_version(&python)
    })();
    drop(lock);
    match created {
        Ok(_) => Ok(python),
        Err(e) => {
            tried.push(e);
            Err(format!(
                "the interop tests need a Python 3.10+ with the official Runpod SDK (`runpod` \
                 1.12), and none could be found or installed:\n  - {}\n\
                 Fix: run `./scripts/prereqs.sh` (it creates target/python-venv), or set \
                 RUNPOD_PYTHON to a python where `pip install 'runpod==1.12.*'` was done; \
                 installing needs python3 with the venv module and access to PyPI.",
                tried.join("\n  - ")
            ))
        }
    }
}

/// The Python to run workers with (found or created once per test process).
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match PYTHON.get_or_init(find_or_create_python) {
        Ok(p) => p.clone(),
        Err(e) => panic!("{e}"),
    }
}
