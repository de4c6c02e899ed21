//! Shared plumbing of the component binaries: Go-style flags, the glog-style logging flags
//! (`-v`, `-logtostderr`, `-log_dir`, `-alsologtostderr`), `--master` addresses and shutdown
//! signals.

use clap::ArgAction;
use std::fs::{File, OpenOptions};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::writer::{BoxMakeWriter, MakeWriterExt};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Rewrites Go-style single-dash long flags (`-port=8080`, `-master x`) to `--port=8080`.
pub fn normalize_args(args: impl Iterator<Item = String>) -> Vec<String> {
    args.enumerate()
        .map(|(i, a)| {
            if i > 0 && a.starts_with('-') && !a.starts_with("--") && a.len() > 2 {
                format!("-{a}")
            } else {
                a
            }
        })
        .collect()
}

/// The machine's host name, lower-cased (node names are DNS subdomains).
pub fn hostname() -> Result<String, String> {
    let raw = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map_err(|e| format!("reading the host name: {e}; pass --hostname-override"))?;
    let name = raw.trim().to_lowercase();
    if name.is_empty() {
        return Err("empty host name; pass --hostname-override".into());
    }
    Ok(name)
}

/// Waits for SIGINT or SIGTERM.
pub async fn wait_for_signal() {
    let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(s) => s,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            return;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = term.recv() => {}
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_args;

    #[test]
    fn go_style_flags_become_long_flags() {
        let cases = [
            (vec!["bin", "-port=8080"], vec!["bin", "--port=8080"]),
            (
                vec!["bin", "-master", "127.0.0.1:8080"],
                vec!["bin", "--master", "127.0.0.1:8080"],
            ),
            (vec!["bin", "--port", "1"], vec!["bin", "--port", "1"]),
            (vec!["bin", "-h"], vec!["bin", "-h"]),
            (vec!["-x", "-"], vec!["-x", "-"]),
        ];
        for (input, want) in cases {
            let got = normalize_args(input.iter().map(|s| s.to_string()));
            assert_eq!(got, want, "{input:?}");
        }
    }
}

/// Parses a Go-style duration flag: `40s`, `5m`, `1h`, `500ms`, `1m30s` (a bare number is seconds).
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    if let Ok(secs) = t.parse::<u64>() {
        return Ok(std::time::Duration::from_secs(secs));
    }
    let bad = || format!("invalid duration {text:?} (use e.g. 40s, 5m, 500ms)");
    let mut total = std::time::Duration::ZERO;
    let mut rest = t;
    if rest.is_empty() {
        return Err(bad());
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .ok_or_else(bad)?;
        let value: f64 = rest[..digits].parse().map_err(|_| bad())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let unit = match &rest[..unit_len] {
            "ms" => 0.001,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        let secs = value * unit;
        if !secs.is_finite() || secs > 1e9 {
            return Err(bad());
        }
        total += std::time::Duration::from_secs_f64(secs);
    }
    Ok(total)
}

#[cfg(test)]
mod duration_tests {
    use super::parse_duration;
    use std::time::Duration;

    #[test]
    fn go_durations() {
        let cases: &[(&str, Option<Duration>)] = &[
            ("40s", Some(Duration::from_secs(40))),
            ("5m", Some(Duration::from_secs(300))),
            ("1h", Some(Duration::from_secs(3600))),
            ("500ms", Some(Duration::from_millis(500))),
            ("1m30s", Some(Duration::from_secs(90))),
            ("1.5s", Some(Duration::from_millis(1500))),
            ("12", Some(Duration::from_secs(12))),
            ("", None),
            ("s", None),
            ("5x", None),
            ("-5s", None),
            ("99999999999h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).ok(), *want, "{text:?}");
        }
    }
}

/// Parses a Go boolean flag value as `strconv.ParseBool` does (`1`, `t`, `T`, `TRUE`, `true`,
/// `True`, and the same for false).
pub fn parse_go_bool(text: &str) -> Result<bool, String> {
    match text {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Ok(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Ok(false),
        _ => Err(format!("invalid boolean {text:?} (use true or false)")),
    }
}

/// The glog logging flags of the seed's binaries, flattened into each binary's flags.
///
/// `-v=N` is the verbosity: 0 logs at info (the default), 1–2 add debug messages of this
/// project's code, 3–4 debug messages of everything, 5 and more trace messages.
/// `-logtostderr` (default true) logs to stderr; `-logtostderr=false` writes
/// `<component>.log` in `-log_dir` (created if missing; the temporary directory when unset, as
/// glog did), and `-alsologtostderr` copies those lines to stderr too.
#[derive(clap::Args, Debug, Clone, PartialEq, Eq)]
pub struct LogFlags {
    /// Log verbosity: 0 info, 1-2 debug (this project), 3-4 debug (everything), 5+ trace.
    #[arg(short = 'v', long = "v", value_name = "N", default_value_t = 0)]
    pub v: u8,
    /// Log to stderr instead of files (`-logtostderr=false` writes into `-log_dir`).
    #[arg(
        long,
        value_name = "BOOL",
        default_value = "true",
        value_parser = parse_go_bool,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub logtostderr: bool,
    /// Also log to stderr when logging to files.
    #[arg(
        long,
        value_name = "BOOL",
        default_value = "false",
        value_parser = parse_go_bool,
        action = ArgAction::Set,
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub alsologtostderr: bool,
    /// Directory of the log files when `-logtostderr=false` (created if missing; default: the
    /// temporary directory).
    #[arg(long = "log-dir", alias = "log_dir", value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
}

impl Default for LogFlags {
    fn default() -> Self {
        LogFlags {
            v: 0,
            logtostderr: true,
            alsologtostderr: false,
            log_dir: None,
        }
    }
}

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// The log directory could not be created.
    #[error("cannot create the log directory {dir}: {source}")]
    CreateDir {
        /// The directory.
        dir: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The log file could not be opened for appending.
    #[error("cannot open the log file {path}: {source}")]
    OpenFile {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// The crates whose debug messages `-v=1` and `-v=2` show (besides the binary's own).
const OWN_CRATES: [&str; 2] = ["kube_runtime", "kube_core"];

/// The filter a verbosity means for `component` (its binary's target is the component name with
/// dashes as underscores).
pub fn log_filter(v: u8, component: &str) -> Targets {
    match v {
        0 => Targets::new().with_default(LevelFilter::INFO),
        1..=2 => OWN_CRATES
            .iter()
            .copied()
            .chain(std::iter::once(component.replace('-', "_").as_str()))
            .fold(Targets::new().with_default(LevelFilter::INFO), |t, c| {
                t.with_target(c.to_string(), LevelFilter::DEBUG)
            }),
        3..=4 => Targets::new().with_default(LevelFilter::DEBUG),
        _ => Targets::new().with_default(LevelFilter::TRACE),
    }
}

/// The file `component` logs into in `dir` (`<dir>/<component>.log`), the directory created if
/// missing, opened for appending.
pub fn open_log_file(dir: &Path, component: &str) -> Result<(PathBuf, File), LogError> {
    std::fs::create_dir_all(dir).map_err(|source| LogError::CreateDir {
        dir: dir.to_path_buf(),
        source,
    })?;
    let path = dir.join(format!("{component}.log"));
    let file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(|source| LogError::OpenFile {
            path: path.clone(),
            source,
        })?;
    Ok((path, file))
}

/// Sets up the process's logging from the flags, for `component` (`apiserver`, `kubelet`, …).
/// Returns the log file when logging to a file. A second call leaves the first set-up in place.
pub fn init_logging(flags: &LogFlags, component: &str) -> Result<Option<PathBuf>, LogError> {
    let (writer, ansi, file) = if flags.logtostderr {
        let ansi = std::io::stderr().is_terminal();
        (BoxMakeWriter::new(std::io::stderr), ansi, None)
    } else {
        let dir = flags.log_dir.clone().unwrap_or_else(std::env::temp_dir);
        let (path, file) = open_log_file(&dir, component)?;
        let file = Mutex::new(file);
        let writer = if flags.alsologtostderr {
            BoxMakeWriter::new(file.and(std::io::stderr))
        } else {
            BoxMakeWriter::new(file)
        };
        (writer, false, Some(path))
    };
    let layer = tracing_subscriber::fmt::layer()
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(writer);
    let _ = tracing_subscriber::registry()
        .with(layer)
        .with(log_filter(flags.v, component))
        .try_init();
    Ok(file)
}

/// Like [`init_logging`], but a failure is printed and logging goes to stderr: a binary keeps
/// running rather than dying over its log file.
pub fn init_logging_or_stderr(flags: &LogFlags, component: &str) {
    if let Err(e) = init_logging(flags, component) {
        eprintln!("{component}: {e}; logging to stderr");
        let _ = init_logging(&LogFlags::default(), component);
    }
}

/// Why a `--master` address is not usable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid --master {given:?}: {reason}")]
pub struct MasterUrlError {
    /// The address as given.
    pub given: String,
    /// What is wrong with it.
    pub reason: String,
}

/// An HTTP client of the API server named by a `--master` value (see [`master_url`]).
pub fn master_client(given: &str) -> Result<crate::client::HttpClient, String> {
    let url = master_url(given).map_err(|e| e.to_string())?;
    crate::client::HttpClient::new(&url).map_err(|e| e.to_string())
}

/// Parses a `KEY=VALUE` label flag (`--container-label`).
pub fn parse_label(text: &str) -> Result<(String, String), String> {
    match text.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err(format!("{text:?}: expected KEY=VALUE")),
    }
}

/// The API server's base URL from a `--master` value: `http://host:port`, or the seed's bare
/// `host:port` (`-master 127.0.0.1:8080`), which gets `http://` in front. Trailing slashes go.
pub fn master_url(given: &str) -> Result<String, MasterUrlError> {
    let bad = |reason: &str| MasterUrlError {
        given: given.to_string(),
        reason: reason.to_string(),
    };
    let trimmed = given.trim();
    if trimmed.is_empty() {
        return Err(bad("empty; use host:port or http://host:port"));
    }
    let rest = match trimmed.split_once("://") {
        Some(("http", rest)) => rest,
        Some((scheme, _)) => {
            return Err(bad(&format!(
                "scheme {scheme:?} is not supported; use http"
            )))
        }
        None => trimmed,
    };
    let rest = rest.trim_end_matches('/');
    if rest.is_empty() {
        return Err(bad("missing host"));
    }
    let url = format!("http://{rest}");
    let uri: http::Uri = url
        .parse()
        .map_err(|e: http::uri::InvalidUri| bad(&e.to_string()))?;
    match uri.authority() {
        Some(a) if a.host().is_empty() => return Err(bad("missing host")),
        // `host:` followed by something that is not a port number.
        Some(a) if a.as_str() != a.host() && a.port_u16().is_none() => {
            return Err(bad("the port is not a number"))
        }
        Some(_) => {}
        None => return Err(bad("missing host")),
    }
    if (uri.path() != "/" && !uri.path().is_empty()) || uri.query().is_some() {
        return Err(bad("a path or query is not expected; use host:port"));
    }
    Ok(url)
}

#[cfg(test)]
mod logging_tests {
    use super::*;
    use clap::Parser;
    use tracing::Level;

    /// A binary's flags with the logging flags flattened in, as every component has them.
    #[derive(Parser, Debug)]
    struct Flags {
        #[arg(long)]
        master: Option<String>,
        #[command(flatten)]
        log: LogFlags,
    }

    fn parse(args: &[&str]) -> Result<LogFlags, String> {
        let argv = normalize_args(
            std::iter::once("bin")
                .chain(args.iter().copied())
                .map(str::to_string),
        );
        Flags::try_parse_from(argv)
            .map(|f| f.log)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn glog_flags_parse_as_go_spells_them() {
        let files = |v, dir: &str, also| LogFlags {
            v,
            logtostderr: false,
            alsologtostderr: also,
            log_dir: Some(PathBuf::from(dir)),
        };
        let cases: &[(&[&str], LogFlags)] = &[
            (&[], LogFlags::default()),
            (
                &["-v=3", "-logtostderr=false", "-log_dir=./log"],
                files(3, "./log", false),
            ),
            (
                &[
                    "--v",
                    "5",
                    "--logtostderr=0",
                    "--log-dir",
                    "/tmp/x",
                    "-alsologtostderr",
                ],
                files(5, "/tmp/x", true),
            ),
            (
                &["-v", "2", "-logtostderr"],
                LogFlags {
                    v: 2,
                    ..LogFlags::default()
                },
            ),
            (
                &["-logtostderr=F", "-alsologtostderr=TRUE", "-log_dir", "d"],
                files(0, "d", true),
            ),
            (
                &["-master", "127.0.0.1:8080", "-logtostderr=true", "-v=1"],
                LogFlags {
                    v: 1,
                    ..LogFlags::default()
                },
            ),
        ];
        for (args, want) in cases {
            assert_eq!(parse(args).as_ref(), Ok(want), "{args:?}");
        }
    }

    #[test]
    fn bad_logging_flags_are_refused_clearly() {
        let cases: &[(&[&str], &str)] = &[
            (&["-logtostderr=maybe"], "invalid boolean"),
            (&["-v=loud"], "invalid value"),
            (&["-log_dirr=x"], "unexpected argument '--log_dirr'"),
            (&["-stderrthreshold=INFO"], "unexpected argument"),
        ];
        for (args, message) in cases {
            match parse(args) {
                Ok(f) => panic!("{args:?} parsed as {f:?}"),
                Err(e) => assert!(e.contains(message), "{args:?}: {e}"),
            }
        }
    }

    #[test]
    fn go_bools() {
        for t in ["1", "t", "T", "TRUE", "true", "True"] {
            assert_eq!(parse_go_bool(t), Ok(true), "{t}");
        }
        for f in ["0", "f", "F", "FALSE", "false", "False"] {
            assert_eq!(parse_go_bool(f), Ok(false), "{f}");
        }
        for bad in ["", "yes", "tRUE", "2"] {
            assert!(parse_go_bool(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn verbosity_levels() {
        // (v, target, level, enabled)
        let cases = [
            (0, "kube_runtime::kubelet", Level::INFO, true),
            (0, "kube_runtime::kubelet", Level::DEBUG, false),
            (0, "hyper", Level::INFO, true),
            (1, "kube_runtime::kubelet", Level::DEBUG, true),
            (2, "kube_core::scheduler", Level::DEBUG, true),
            (2, "controller_manager", Level::DEBUG, true),
            (2, "hyper", Level::DEBUG, false),
            (2, "kube_runtime", Level::TRACE, false),
            (3, "hyper", Level::DEBUG, true),
            (4, "kube_runtime", Level::TRACE, false),
            (5, "kube_runtime", Level::TRACE, true),
            (9, "redb", Level::TRACE, true),
        ];
        for (v, target, level, want) in cases {
            let got = log_filter(v, "controller-manager").would_enable(target, &level);
            assert_eq!(got, want, "-v={v} {target} {level}");
        }
    }

    #[test]
    fn log_file_in_a_created_directory() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let dir = tmp.path().join("log").join("nested");
        let (path, mut file) = open_log_file(&dir, "scheduler").expect("open");
        assert_eq!(path, dir.join("scheduler.log"));
        std::io::Write::write_all(&mut file, b"one\n").expect("write");
        drop(file);
        // Reopening appends.
        let (_, mut again) = open_log_file(&dir, "scheduler").expect("reopen");
        std::io::Write::write_all(&mut again, b"two\n").expect("write");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), "one\ntwo\n");
        // A directory that cannot be created is a clear error.
        let blocked = tmp.path().join("file");
        std::fs::write(&blocked, b"").expect("write");
        let err = open_log_file(&blocked.join("sub"), "scheduler").expect_err("not a dir");
        assert!(
            err.to_string()
                .starts_with("cannot create the log directory"),
            "{err}"
        );
    }

    #[test]
    fn master_urls() {
        let cases: &[(&str, Result<&str, &str>)] = &[
            ("127.0.0.1:8080", Ok("http://127.0.0.1:8080")),
            ("http://127.0.0.1:8080", Ok("http://127.0.0.1:8080")),
            ("http://127.0.0.1:8080/", Ok("http://127.0.0.1:8080")),
            (" localhost:8080 ", Ok("http://localhost:8080")),
            ("localhost", Ok("http://localhost")),
            ("[::1]:8080", Ok("http://[::1]:8080")),
            ("", Err("empty")),
            (
                "https://127.0.0.1:6443",
                Err("scheme \"https\" is not supported"),
            ),
            ("http://", Err("")),
            ("127.0.0.1:8080/api", Err("a path or query is not expected")),
            ("127.0.0.1:notaport", Err("the port is not a number")),
            ("127.0.0.1:99999", Err("")),
        ];
        for (given, want) in cases {
            match (master_url(given), want) {
                (Ok(got), Ok(w)) => assert_eq!(got, *w, "{given:?}"),
                (Err(e), Err(w)) => {
                    assert!(e.to_string().contains(w), "{given:?}: {e}");
                    assert!(e.to_string().starts_with("invalid --master"), "{e}");
                }
                (got, want) => panic!("{given:?}: got {got:?}, want {want:?}"),
            }
        }
    }
}
