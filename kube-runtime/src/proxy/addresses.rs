//! Cluster IPs on a host interface: `ip addr add <ip>/32 dev <iface>` before a listener can
//! bind a cluster IP the host does not have, `ip addr del` once no listener needs it.
//!
//! Addresses in 127.0.0.0/8 (and `::1`) never need this: Linux routes all of 127/8 to `lo`.
//! The default interface is the Docker bridge, so containers (whose default route is the
//! bridge gateway, this host) reach the services while nothing listens on the LAN side.

use std::net::IpAddr;
use std::path::Path;

/// The interface cluster IPs go on when none is configured: `docker0` when it exists, else `lo`.
pub fn default_interface() -> String {
    if Path::new("/sys/class/net/docker0").exists() {
        "docker0".to_string()
    } else {
        "lo".to_string()
    }
}

/// Whether `iface` exists on this host.
pub fn interface_exists(iface: &str) -> bool {
    !iface.is_empty() && !iface.contains('/') && Path::new("/sys/class/net").join(iface).exists()
}

/// Whether binding `ip` needs no interface address (a loopback address).
pub fn needs_no_address(ip: IpAddr) -> bool {
    ip.is_loopback()
}

/// The host prefix of `ip` for `ip addr`: `/32` for IPv4, `/128` for IPv6.
fn host_prefix(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => format!("{v4}/32"),
        IpAddr::V6(v6) => format!("{v6}/128"),
    }
}

/// Adds `ip` as a host address to `iface`.
pub async fn add(ip: IpAddr, iface: &str) -> Result<(), String> {
    run_ip(["addr", "add", &host_prefix(ip), "dev", iface]).await
}

/// Removes `ip` from `iface`.
pub async fn remove(ip: IpAddr, iface: &str) -> Result<(), String> {
    run_ip(["addr", "del", &host_prefix(ip), "dev", iface]).await
}

/// Runs `ip` with `args` (an argv array, never a shell string) off the async threads.
async fn run_ip<const N: usize>(args: [&str; N]) -> Result<(), String> {
    let argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    let shown = format!("ip {}", argv.join(" "));
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("ip")
            .args(&argv)
            .stdin(std::process::Stdio::null())
            .output()
    })
    .await
    .map_err(|e| format!("{shown}: {e}"))?
    .map_err(|e| format!("{shown}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{shown}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_binds_without_an_address() {
        let cases = [
            ("127.77.0.1", true),
            ("127.0.0.1", true),
            ("::1", true),
            ("10.0.0.1", false),
            ("172.17.0.1", false),
        ];
        for (ip, want) in cases {
            assert_eq!(needs_no_address(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn prefixes_are_host_routes() {
        assert_eq!(host_prefix("10.0.0.1".parse().unwrap()), "10.0.0.1/32");
        assert_eq!(host_prefix("fd00::1".parse().unwrap()), "fd00::1/128");
    }

    #[test]
    fn interface_names_are_not_paths() {
        assert!(interface_exists("lo"));
        assert!(!interface_exists(""));
        assert!(!interface_exists("../lo"));
        assert!(!interface_exists("no-such-interface-x"));
    }
}
