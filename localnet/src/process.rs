//! Thin process management: run a tool and fail with its words, start a daemon in its own
//! process group with a pid file and a log, stop it.

use std::fs::OpenOptions;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

pub fn log(msg: impl AsRef<str>) {
    eprintln!("[localnet] {}", msg.as_ref());
}

/// Runs to completion; a non-zero exit is an error carrying the tail of its output.
pub fn run(cmd: &mut Command) -> Result<String> {
    let out = cmd
        .output()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !out.status.success() {
        let text = [out.stderr, out.stdout].concat();
        let text = String::from_utf8_lossy(&text);
        let tail: String = text
            .chars()
            .rev()
            .take(2000)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect();
        bail!(
            "{} failed ({}):\n{}",
            describe(cmd),
            out.status,
            tail.trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// Writes a file only its owner may read (key material: mnemonics).
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    file.write_all(bytes)?;
    Ok(())
}

/// Runs with output shown live (long builds that print their own progress).
pub fn run_visible(cmd: &mut Command) -> Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("running {:?}", cmd.get_program()))?;
    if !status.success() {
        bail!("{} failed ({status})", describe(cmd));
    }
    Ok(())
}

fn describe(cmd: &Command) -> String {
    std::iter::once(cmd.get_program())
        .chain(cmd.get_args().take(5))
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The pid a pid file names; never 0 or 1 (signalling `-0`/`-1` would reach our own group
/// or every process), whatever the file holds.
fn pid(pidfile: &Path) -> Option<i32> {
    let pid: i32 = std::fs::read_to_string(pidfile).ok()?.trim().parse().ok()?;
    (pid > 1).then_some(pid)
}

/// Is the process of this pid file running?
///
/// Only a process whose command line names the pid file's directory counts (every daemon is
/// started with its home or config there): after a reboot the pid may belong to anything,
/// and `down` must never signal an unrelated process group.
pub fn alive(pidfile: &Path) -> Option<i32> {
    let pid = pid(pidfile)?;
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let dir = pidfile.parent()?.to_string_lossy().into_owned();
    let ours = String::from_utf8_lossy(&cmdline).contains(&dir);
    // A zombie (exited, not yet reaped) is not running.
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let zombie = state
        .rsplit(')')
        .next()
        .is_some_and(|rest| rest.trim_start().starts_with('Z'));
    (ours && !zombie).then_some(pid)
}

/// Starts `cmd` in its own process group (so `down` stops it and its children, and a
/// Ctrl-C of `make localnet` does not), appending to `log_file`, and writes its pid.
pub fn spawn_daemon(
    cmd: &mut Command,
    log_file: &Path,
    pidfile: &Path,
) -> Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let out = OpenOptions::new()
        .create(true)
        .append(true)
        .open(log_file)
        .with_context(|| format!("opening {}", log_file.display()))?;
    let child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out)
        .process_group(0)
        .spawn()
        .with_context(|| format!("starting {}", describe(cmd)))?;
    std::fs::write(pidfile, child.id().to_string())?;
    Ok(child)
}

/// SIGTERM to the process group, SIGKILL after 10 s; removes the pid file.
pub fn stop(pidfile: &Path) -> Option<i32> {
    let pid = alive(pidfile)?;
    let signal_group = |sig| {
        // SAFETY: signals the process group this tool created for the daemon.
        unsafe { libc::kill(-pid, sig) };
    };
    signal_group(libc::SIGTERM);
    let start = Instant::now();
    while alive(pidfile).is_some() && start.elapsed() < Duration::from_secs(10) {
        reap(pid);
        std::thread::sleep(Duration::from_millis(250));
    }
    if alive(pidfile).is_some() {
        signal_group(libc::SIGKILL);
    }
    let _ = std::fs::remove_file(pidfile);
    Some(pid)
}

/// Collects the exit status if the daemon is our own child (started in this run).
fn reap(pid: i32) {
    let mut status = 0;
    // SAFETY: non-blocking wait on one pid; harmless if it is not our child.
    unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_naming_no_real_daemon_are_ignored() {
        let dir = std::env::temp_dir().join(format!("hm-localnet-pid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("x.pid");
        for bad in ["", "0", "1", "-1", "-4242", "abc", "99999999999"] {
            std::fs::write(&file, bad).unwrap();
            assert_eq!(pid(&file), None, "{bad:?}");
            assert_eq!(stop(&file), None, "{bad:?}");
        }
        // This test process exists but does not name the pid file's directory: not ours.
        std::fs::write(&file, std::process::id().to_string()).unwrap();
        assert_eq!(alive(&file), None);
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30; true"])
            .arg(&dir)
            .spawn();
        if let Ok(child) = child.as_mut() {
            std::fs::write(&file, child.id().to_string()).unwrap();
            // Until the child has exec'd, /proc shows the test binary's command line.
            let start = Instant::now();
            while alive(&file).is_none() && start.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert_eq!(alive(&file), Some(child.id() as i32));
            child.kill().unwrap();
            child.wait().unwrap();
            assert_eq!(alive(&file), None, "a reaped process is gone");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
