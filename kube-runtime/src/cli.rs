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
