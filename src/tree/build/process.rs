//! Running one build step: no input, its output kept (the tail shown on
//! failure), a time limit past which it is stopped with everything it
//! started (its own process group), and Ctrl-C passed on.

use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use super::*;

/// What a step printed, and how it ended: `status` is `None` for a step
/// stopped at its time limit (in [`run_with_limit`]'s answer only; a
/// finished step's always has one).
pub(super) struct Ran {
    pub(super) status: Option<ExitStatus>,
    pub(super) stdout: Vec<u8>,
    pub(super) stderr: Vec<u8>,
}

impl Ran {
    pub(super) fn success(&self) -> bool {
        self.status.is_some_and(|status| status.success())
    }
}

/// Run `command` with no input, its output collected, for at most `limit`.
/// It leads a process group of its own, so that stopping it stops what it
/// started too (pip's subprocesses, a backend's compiler). A step is over
/// when its process has exited and nothing it started still holds its
/// output open; both within the limit.
pub(super) fn run_with_limit(command: &mut Command, limit: Duration) -> std::io::Result<Ran> {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(command, 0);
    let mut child = command.spawn()?;
    // Its own process group does not get the terminal's Ctrl-C: reqlock
    // stops it on the way out.
    #[cfg(unix)]
    let _stopped_on_interrupt = interrupt::Running::register(child.id());
    let deadline = Instant::now() + limit;
    let mut pipes = Pipes::start(&mut child);
    let exited = match wait_until(&mut child, deadline) {
        Ok(exited) => exited,
        Err(err) => {
            stop(&mut child);
            return Err(err);
        }
    };
    let status = match exited {
        Some(status) if pipes.wait_closed(deadline) => Some(status),
        _ => {
            stop(&mut child);
            pipes.wait_closed(Instant::now() + STOP_GRACE);
            None
        }
    };
    let (stdout, stderr) = pipes.take();
    Ok(Ran {
        status,
        stdout,
        stderr,
    })
}

/// Build steps lead process groups of their own, which the terminal's
/// Ctrl-C (sent to reqlock's group) never reaches: on SIGINT, SIGTERM or
/// SIGHUP, reqlock kills the groups of the steps still running, then dies
/// of the signal as it would have.
#[cfg(unix)]
mod interrupt {
    use std::sync::atomic::{AtomicI32, Ordering};
    use std::sync::Once;

    /// Slots, not a locked list: a signal handler may only make
    /// async-signal-safe calls, which taking a lock is not.
    static RUNNING: [AtomicI32; 64] = [const { AtomicI32::new(0) }; 64];

    /// A running step's process group, in a slot until dropped.
    pub struct Running(Option<usize>);

    impl Running {
        pub fn register(pid: u32) -> Running {
            static INSTALL: Once = Once::new();
            INSTALL.call_once(|| {
                for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
                    // SAFETY: the handler only loads atomics and calls
                    // `kill`, `signal` and `raise`, all async-signal-safe.
                    unsafe {
                        libc::signal(signal, on_signal as *const () as libc::sighandler_t);
                    }
                }
            });
            let Ok(pid) = i32::try_from(pid) else {
                return Running(None);
            };
            // More than 64 steps at once do not happen (builds run one at a
            // time); one without a slot is only not stopped on Ctrl-C.
            Running(RUNNING.iter().position(|slot| {
                slot.compare_exchange(0, pid, Ordering::SeqCst, Ordering::SeqCst)
                    .is_ok()
            }))
        }
    }

    impl Drop for Running {
        fn drop(&mut self) {
            if let Some(slot) = self.0 {
                RUNNING[slot].store(0, Ordering::SeqCst);
            }
        }
    }

    extern "C" fn on_signal(signal: libc::c_int) {
        for slot in &RUNNING {
            let pid = slot.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: `kill` is async-signal-safe; the group is the
                // step's own (`process_group(0)`), led by `pid`.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
            }
        }
        // SAFETY: back to the default action, then the same signal again:
        // reqlock ends as the signal would have ended it.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            libc::raise(signal);
        }
    }
}

/// The exit status of `child`, or `None` if it still runs at `deadline`.
pub(super) fn wait_until(
    child: &mut Child,
    deadline: Instant,
) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(None);
        }
        std::thread::sleep(left.min(POLL));
    }
}

/// Kill `child` and its process group, and reap it.
pub(super) fn stop(child: &mut Child) {
    #[cfg(unix)]
    if let Ok(pid) = libc::pid_t::try_from(child.id()) {
        // SAFETY: `kill` only sends a signal. The child leads its own
        // process group (`process_group(0)`), whose id is its pid; it is
        // not reaped yet, or a member still holds its pipes, so the group
        // is still the one it led.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
    // Already gone, or not a group leader (off Unix): either way the
    // process itself is killed and reaped; errors mean it had exited.
    let _ = child.kill();
    let _ = child.wait();
}

/// The output streams of a running step, read by one thread each so that
/// neither fills its pipe and blocks the step.
pub(super) struct Pipes {
    pub(super) stdout: Arc<Mutex<Vec<u8>>>,
    pub(super) stderr: Arc<Mutex<Vec<u8>>>,
    pub(super) closed: Receiver<()>,
    pub(super) open: usize,
}

impl Pipes {
    pub(super) fn start(child: &mut Child) -> Pipes {
        let (sender, closed) = mpsc::channel();
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut open = 0;
        if let Some(pipe) = child.stdout.take() {
            drain(pipe, Arc::clone(&stdout), sender.clone());
            open += 1;
        }
        if let Some(pipe) = child.stderr.take() {
            drain(pipe, Arc::clone(&stderr), sender);
            open += 1;
        }
        Pipes {
            stdout,
            stderr,
            closed,
            open,
        }
    }

    /// Wait until both streams are closed, or `deadline`; whether they are.
    pub(super) fn wait_closed(&mut self, deadline: Instant) -> bool {
        while self.open > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.closed.recv_timeout(left) {
                Ok(()) => self.open -= 1,
                Err(RecvTimeoutError::Timeout) => return false,
                // Every reader has ended: nothing is open any more.
                Err(RecvTimeoutError::Disconnected) => self.open = 0,
            }
        }
        true
    }

    /// What has been read so far.
    pub(super) fn take(self) -> (Vec<u8>, Vec<u8>) {
        let take = |buffer: &Arc<Mutex<Vec<u8>>>| {
            std::mem::take(&mut *buffer.lock().unwrap_or_else(PoisonError::into_inner))
        };
        (take(&self.stdout), take(&self.stderr))
    }
}

/// Read `pipe` to its end on a thread, into `buffer` (its last
/// [`OUTPUT_KEPT`] bytes or so), then say so on `closed`.
pub(super) fn drain(
    mut pipe: impl Read + Send + 'static,
    buffer: Arc<Mutex<Vec<u8>>>,
    closed: Sender<()>,
) {
    std::thread::spawn(move || {
        let mut chunk = [0u8; 8192];
        loop {
            match pipe.read(&mut chunk) {
                Ok(0) => break,
                Ok(read) => {
                    let mut kept = buffer.lock().unwrap_or_else(PoisonError::into_inner);
                    kept.extend_from_slice(&chunk[..read]);
                    // Trimmed in halves, so the copying stays linear.
                    if kept.len() > 2 * OUTPUT_KEPT {
                        let excess = kept.len() - OUTPUT_KEPT;
                        kept.drain(..excess);
                    }
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        // The receiver is gone only when the step's result is already in.
        let _ = closed.send(());
    });
}

/// The last lines of what a command printed, indented, for an error.
pub(super) fn tail(output: &Ran) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    let lines: Vec<&str> = text
        .lines()
        .filter(|line| !line.trim().is_empty())
        .collect();
    let start = lines.len().saturating_sub(TAIL_LINES);
    match (lines.is_empty(), output.status) {
        (true, Some(status)) => return format!(" exit status {status} and no output"),
        (true, None) => return " no output".to_string(),
        (false, _) => {}
    }
    lines[start..]
        .iter()
        .map(|line| format!("\n  | {line}"))
        .collect()
}
