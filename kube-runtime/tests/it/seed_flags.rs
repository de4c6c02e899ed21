//! The seed's command lines, verbatim, for every component binary: each parses, logs into
//! `./log/<component>.log` (created) at the seed's `-v=3`, and starts or stops only for a
//! reason that is not its flags. Ports are free ones instead of the seed's 8080 and 10250, so
//! the tests never meet another server; every flag is the seed's spelling.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A child process killed when the test ends.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A port nothing listens on (bound, then released).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Starts `bin` with `args` in `dir` (the seed's `-log_dir=./log` is relative to it).
fn spawn(bin: &str, args: &[String], dir: &Path) -> Running {
    Running(
        Command::new(bin)
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn"),
    )
}

/// The seed's logging flags, verbatim.
fn seed_logging() -> Vec<String> {
    ["-v=3", "-logtostderr=false", "-log_dir=./log"]
        .map(String::from)
        .to_vec()
}

/// Waits until `file` contains `text`; panics after 10 s (or if `child` exits first),
/// showing what the process said.
fn wait_for_log(child: &mut Running, file: &Path, text: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = std::fs::read_to_string(file).unwrap_or_default();
        if log.contains(text) {
            return;
        }
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            panic!("exited ({status}) before logging {text:?}; stderr: {err}; log: {log}");
        }
        assert!(
            Instant::now() < deadline,
            "{} never said {text:?}: {log}",
            file.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits for the process to exit; returns its stderr.
fn wait_for_exit(child: &mut Running) -> (std::process::ExitStatus, String) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(Some(status)) = child.0.try_wait() {
            let mut err = String::new();
            if let Some(mut e) = child.0.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut err);
            }
            return (status, err);
        }
        assert!(Instant::now() < deadline, "still running after 10 s");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn log_file(dir: &Path, component: &str) -> PathBuf {
    dir.join("log").join(format!("{component}.log"))
}

/// `./scheduler -master 127.0.0.1:8080 -v=3 -logtostderr=false -log_dir=./log` and the same
/// for the controller manager: both run, watching the host:port given with `http://`.
#[test]
fn scheduler_and_controller_manager_take_the_seeds_flags() {
    for (component, bin) in [
        ("scheduler", env!("CARGO_BIN_EXE_scheduler")),
        (
            "controller-manager",
            env!("CARGO_BIN_EXE_controller-manager"),
        ),
    ] {
        let tmp = tempfile::tempdir().expect("tempdir");
        let master = format!("127.0.0.1:{}", free_port());
        let mut args = vec!["-master".to_string(), master.clone()];
        args.extend(seed_logging());
        let mut child = spawn(bin, &args, tmp.path());
        let log = log_file(tmp.path(), component);
        wait_for_log(
            &mut child,
            &log,
            &format!("{component} watching http://{master}"),
        );
        // -v=3: debug lines are written too.
        wait_for_log(&mut child, &log, "DEBUG");
        assert!(
            child.0.try_wait().expect("try_wait").is_none(),
            "{component} exited"
        );
    }
}

/// `./kubelet -address=127.0.0.1 -port=10250 -hostname_override=127.0.0.1
/// -etcd_servers=http://127.0.0.1:4001 -v=3 -logtostderr=false -log_dir=./log`: the flags
/// parse, the log says `-etcd_servers` is not used and the API server is the seed's
/// 127.0.0.1:8080. (Docker is pointed at a missing socket, so the kubelet stops there,
/// saying so, and never reaches whatever listens on 8080.)
#[test]
fn kubelet_takes_the_seeds_flags() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<String> = [
        "-address=127.0.0.1".to_string(),
        format!("-port={}", free_port()),
        "-hostname_override=127.0.0.1".to_string(),
        "-etcd_servers=http://127.0.0.1:4001".to_string(),
    ]
    .to_vec();
    args.extend(seed_logging());
    args.push(format!(
        "--docker-endpoint=unix://{}/no-docker.sock",
        tmp.path().display()
    ));
    let mut child = spawn(env!("CARGO_BIN_EXE_kubelet"), &args, tmp.path());
    let (status, stderr) = wait_for_exit(&mut child);
    assert!(!status.success());
    assert!(stderr.contains("Docker is not reachable"), "{stderr}");
    let log = std::fs::read_to_string(log_file(tmp.path(), "kubelet")).expect("kubelet.log");
    assert!(
        log.contains(
            "-etcd_servers=http://127.0.0.1:4001 is not used: this kubelet talks to the API \
             server at http://127.0.0.1:8080, never to etcd"
        ),
        "{log}"
    );
}

/// `./apiserver -address=127.0.0.1 -port=8080 -portal_net="172.0.0.0/16"
/// -etcd_servers=http://127.0.0.1:4001 -machines=127.0.0.1 -v=3 -logtostderr=false
/// -log_dir=./log`: the flags parse; without the `etcd` feature the server stops saying so,
/// with it the server listens (etcd is connected lazily) or stops for want of etcd.
#[test]
fn apiserver_takes_the_seeds_flags() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut args: Vec<String> = [
        "-address=127.0.0.1".to_string(),
        format!("-port={}", free_port()),
        // The shell removes the seed's quotes around 172.0.0.0/16.
        "-portal_net=172.0.0.0/16".to_string(),
        "-etcd_servers=http://127.0.0.1:4001".to_string(),
        "-machines=127.0.0.1".to_string(),
    ]
    .to_vec();
    args.extend(seed_logging());
    let mut child = spawn(env!("CARGO_BIN_EXE_apiserver"), &args, tmp.path());
    let log = log_file(tmp.path(), "apiserver");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if std::fs::read_to_string(&log)
            .unwrap_or_default()
            .contains("listening on")
        {
            // Built with etcd: connected lazily, serving (without it, the server would
            // have stopped before listening: the next branch).
            return;
        }
        if let Ok(Some(_)) = child.0.try_wait() {
            break;
        }
        assert!(Instant::now() < deadline, "neither served nor stopped");
        std::thread::sleep(Duration::from_millis(20));
    }
    // Stopped: for a reason other than its flags (no etcd support built in, or, with it, no
    // etcd on the seed's port to register the -machines node in).
    let (status, stderr) = wait_for_exit(&mut child);
    assert!(!status.success() && status.code() != Some(2), "{stderr}");
    assert!(!stderr.contains("unexpected argument"), "{stderr}");
    if !cfg!(feature = "etcd") {
        assert!(stderr.contains("built without etcd support"), "{stderr}");
    }
    assert!(log.exists(), "no log file");
}

/// An unknown flag still gets clap's clear error, naming it, for every component.
#[test]
fn unknown_flags_are_refused_clearly() {
    for bin in [
        env!("CARGO_BIN_EXE_apiserver"),
        env!("CARGO_BIN_EXE_scheduler"),
        env!("CARGO_BIN_EXE_controller-manager"),
        env!("CARGO_BIN_EXE_kubelet"),
        env!("CARGO_BIN_EXE_localkube"),
    ] {
        let out = Command::new(bin)
            .arg("-no_such_flag=1")
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(2), "{bin}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("unexpected argument '--no_such_flag'"),
            "{bin}: {stderr}"
        );
    }
}
