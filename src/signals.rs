//! SIGINT and SIGTERM: an interrupted command leaves nothing that looks finished, then exits
//! 130 (SIGINT) or 143 (SIGTERM), as a shell expects of a process killed by the signal.
//!
//! Both signals are blocked in every thread (threads inherit the mask of the main thread, which
//! blocks them before any other thread exists) and taken by one thread of ours with `sigwait`,
//! so the cleanup runs as ordinary code, not in a signal handler. It is
//! [`liqsim::report::interrupt::stop`]: temporaries removed, an unfinished command's outputs
//! removed, locks released, a Monte Carlo's journal kept for `--resume`.

/// Starts the signal thread (on Unix; elsewhere the default handling stays).
pub fn install() {
    #[cfg(unix)]
    unix::install();
}

#[cfg(unix)]
mod unix {
    use std::io::Write;

    fn set() -> libc::sigset_t {
        // SAFETY: sigemptyset initialises the set it is given; sigaddset adds valid signals.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            set
        }
    }

    fn mask(how: libc::c_int) {
        let set = set();
        // SAFETY: a valid, initialised set; the old mask is not wanted.
        unsafe {
            libc::pthread_sigmask(how, &set, std::ptr::null_mut());
        }
    }

    pub fn install() {
        mask(libc::SIG_BLOCK);
        let spawned = std::thread::Builder::new().name("signals".into()).spawn(|| {
            let set = set();
            let mut sig: libc::c_int = 0;
            loop {
                // SAFETY: a valid set of blocked signals and a place for the one taken.
                if unsafe { libc::sigwait(&set, &mut sig) } == 0 {
                    break;
                }
            }
            let name = if sig == libc::SIGINT { "SIGINT" } else { "SIGTERM" };
            let said = liqsim::report::interrupt::stop();
            let mut err = std::io::stderr().lock();
            let _ =
                writeln!(err, "liqsim: interrupted ({name}); nothing unfinished is left looking finished");
            for line in said {
                let _ = writeln!(err, "  {line}");
            }
            let _ = err.flush();
            std::process::exit(128 + sig);
        });
        if spawned.is_err() {
            // No thread to take them: let the signals act as usual.
            mask(libc::SIG_UNBLOCK);
        }
    }
}
