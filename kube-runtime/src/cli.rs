//! Shared plumbing of the component binaries: Go-style flags and shutdown signals.

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
