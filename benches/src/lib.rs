//! Benchmark support code shared by the benchmark programs and the criterion benches:
//! a realistic pod document, latency statistics and per-thread CPU accounting.

use std::collections::BTreeMap;
use std::time::Duration;

/// A realistic core/v1 pod (about 600 bytes of JSON): five labels, one container with an
/// image, two ports, two environment variables and cpu/memory requests and limits.
/// `index` makes the name (`bench-000042`) and one label unique.
pub fn pod_json(index: usize) -> String {
    format!(
        concat!(
            r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"bench-{i:06}","#,
            r#""labels":{{"app":"web-frontend","tier":"frontend","environment":"production","#,
            r#""track":"stable","bench-index":"{i}"}}}},"#,
            r#""spec":{{"restartPolicy":"Always","containers":[{{"name":"web","#,
            r#""image":"registry.example.com/platform/web-frontend:1.24.3","#,
            r#""imagePullPolicy":"IfNotPresent","#,
            r#""ports":[{{"name":"http","containerPort":8080,"protocol":"TCP"}},"#,
            r#"{{"name":"metrics","containerPort":9090,"protocol":"TCP"}}],"#,
            r#""env":[{{"name":"LOG_LEVEL","value":"info"}},{{"name":"CACHE_SIZE_MB","value":"256"}},"#,
            r#"{{"name":"UPSTREAM_URL","value":"http://backend.default.svc:8080"}}],"#,
            r#""resources":{{"requests":{{"cpu":"250m","memory":"128Mi"}},"#,
            r#""limits":{{"cpu":"500m","memory":"256Mi"}}}}}}]}}}}"#
        ),
        i = index
    )
}

/// Ten labels typical of a workload, for selector benchmarks.
pub fn ten_labels() -> BTreeMap<String, String> {
    [
        ("app", "web-frontend"),
        ("tier", "frontend"),
        ("environment", "production"),
        ("track", "stable"),
        ("version", "1.24.3"),
        ("team", "platform"),
        ("region", "eu-west-1"),
        ("zone", "eu-west-1b"),
        ("release", "2026-11"),
        ("owner", "web-team"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// The `q`-quantile (0..=1) of sorted durations, nearest-rank, in milliseconds.
pub fn percentile_ms(sorted: &[Duration], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, sorted.len()) - 1;
    sorted[idx].as_secs_f64() * 1e3
}

/// The median of `samples` in milliseconds.
pub fn median_ms(samples: &[Duration]) -> f64 {
    let mut s = samples.to_vec();
    s.sort();
    percentile_ms(&s, 0.5)
}

/// Rounds to `digits` decimal places (for readable JSON).
pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

/// CPU seconds (user + system) consumed so far by this process's threads, grouped by
/// thread name (from `/proc/self/task/*/stat`). Threads that already exited are not
/// counted. Empty on systems without procfs.
pub fn cpu_by_thread_name() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    let tick = 100.0; // USER_HZ on Linux
    for entry in dir.flatten() {
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // Format: pid (comm) state ... utime(14) stime(15) ...; comm may hold spaces.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].to_string();
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        // fields[0] is field 3 (state), so utime (14) is fields[11], stime (15) fields[12].
        let (Some(u), Some(s)) = (fields.get(11), fields.get(12)) else {
            continue;
        };
        let secs = (u.parse::<f64>().unwrap_or(0.0) + s.parse::<f64>().unwrap_or(0.0)) / tick;
        *out.entry(name).or_insert(0.0) += secs;
    }
    out
}

/// CPU seconds per thread name spent between two [`cpu_by_thread_name`] snapshots.
pub fn cpu_delta(
    before: &BTreeMap<String, f64>,
    after: &BTreeMap<String, f64>,
) -> BTreeMap<String, f64> {
    after
        .iter()
        .map(|(k, v)| (k.clone(), v - before.get(k).copied().unwrap_or(0.0)))
        .filter(|(_, v)| *v > 0.0)
        .collect()
}

/// Seconds this process's live threads have spent runnable but waiting for a CPU (the
/// second field of `/proc/self/task/*/schedstat`): a direct measure of CPU contention.
/// 0 on systems without schedstat.
pub fn runqueue_wait_secs() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc/self/task") else {
        return 0.0;
    };
    dir.flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("schedstat")).ok())
        .filter_map(|s| s.split_whitespace().nth(1)?.parse::<f64>().ok())
        .sum::<f64>()
        / 1e9
}

/// The 1, 5 and 15 minute load averages, as written in `/proc/loadavg`.
pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}
