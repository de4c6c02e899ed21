//! RFC 3339 timestamps: formatting and parsing, pure (callers pass the time in).
//!
//! Kubernetes writes `metav1.Time` as `2014-10-30T15:57:02Z` (seconds) and `MicroTime` (leases,
//! events) as `2014-10-30T15:57:02.123456Z`. [`Timestamp`] parses both, with any fraction and any
//! UTC offset, and compares as an instant, so heartbeats, `deletionTimestamp` and lease expiry can
//! be computed without a clock in kube-core.

use std::fmt;
use std::time::Duration;

/// An instant: whole seconds since the Unix epoch plus nanoseconds (always in `0..1e9`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    secs: i64,
    nanos: u32,
}

/// Why a timestamp could not be parsed.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid RFC 3339 time {input:?}: {reason}")]
pub struct TimeError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

impl Timestamp {
    /// The Unix epoch.
    pub const EPOCH: Timestamp = Timestamp { secs: 0, nanos: 0 };

    /// The instant `secs` seconds and `nanos` nanoseconds after the epoch (nanos carried into secs).
    pub fn from_unix(secs: i64, nanos: u32) -> Timestamp {
        Timestamp {
            secs: secs.saturating_add(i64::from(nanos / 1_000_000_000)),
            nanos: nanos % 1_000_000_000,
        }
    }

    /// Whole seconds since the epoch (floor).
    pub fn unix_secs(self) -> i64 {
        self.secs
    }

    /// The sub-second part in nanoseconds.
    pub fn subsec_nanos(self) -> u32 {
        self.nanos
    }

    /// Parses RFC 3339 (`YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`; `t`, `z` and a space separator too).
    pub fn parse(s: &str) -> Result<Timestamp, TimeError> {
        let err = |reason| TimeError {
            input: s.chars().take(64).collect(),
            reason,
        };
        let b = s.as_bytes();
        if b.len() < 20 {
            return Err(err("too short"));
        }
        let num = |from: usize, len: usize| -> Result<i64, TimeError> {
            let part = b.get(from..from + len).ok_or(err("truncated"))?;
            if !part.iter().all(u8::is_ascii_digit) {
                return Err(err("expected digits"));
            }
            Ok(part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
        };
        let sep = |at: usize, want: &[u8]| -> Result<(), TimeError> {
            match b.get(at) {
                Some(c) if want.contains(c) => Ok(()),
                _ => Err(err("misplaced separator")),
            }
        };
        let year = num(0, 4)?;
        sep(4, b"-")?;
        let month = num(5, 2)?;
        sep(7, b"-")?;
        let day = num(8, 2)?;
        sep(10, b"Tt ")?;
        let hour = num(11, 2)?;
        sep(13, b":")?;
        let minute = num(14, 2)?;
        sep(16, b":")?;
        let second = num(17, 2)?;
        if !(1..=12).contains(&month) {
            return Err(err("month out of range"));
        }
        if day < 1 || day > days_in_month(year, month as u32) {
            return Err(err("day out of range"));
        }
        if hour > 23 || minute > 59 || second > 60 {
            return Err(err("time of day out of range"));
        }
        let mut i = 19;
        let mut nanos: u32 = 0;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                if i - start < 9 {
                    nanos = nanos * 10 + u32::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return Err(err("empty fraction"));
            }
            for _ in (i - start).min(9)..9 {
                nanos *= 10;
            }
        }
        let offset_secs = match &b[i..] {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), _, _, b':', _, _] => {
                let oh = num(i + 1, 2)?;
                let om = num(i + 4, 2)?;
                if oh > 23 || om > 59 {
                    return Err(err("offset out of range"));
                }
                let off = oh * 3600 + om * 60;
                if *sign == b'+' {
                    off
                } else {
                    -off
                }
            }
            _ => return Err(err("expected Z or a ±HH:MM offset")),
        };
        // A leap second (:60) is read as the first second of the next minute.
        let secs = days_from_civil(year, month as u32, day as u32) * 86_400
            + hour * 3600
            + minute * 60
            + second
            - offset_secs;
        Ok(Timestamp { secs, nanos })
    }

    /// `YYYY-MM-DDTHH:MM:SSZ`, the form of `metav1.Time` (fraction dropped).
    pub fn to_rfc3339(self) -> String {
        format_rfc3339(self.secs)
    }

    /// `YYYY-MM-DDTHH:MM:SS.ffffffZ`, the form of `metav1.MicroTime`.
    pub fn to_rfc3339_micros(self) -> String {
        let s = format_rfc3339(self.secs);
        format!("{}.{:06}Z", &s[..s.len() - 1], self.nanos / 1000)
    }

    /// This instant plus `d` (saturating).
    pub fn saturating_add(self, d: Duration) -> Timestamp {
        let nanos = self.nanos + d.subsec_nanos();
        let secs = i64::try_from(d.as_secs())
            .ok()
            .and_then(|s| self.secs.checked_add(s))
            .unwrap_or(i64::MAX);
        Timestamp::from_unix(secs, nanos)
    }

    /// How long after `earlier` this instant is; zero when it is not later.
    pub fn saturating_duration_since(self, earlier: Timestamp) -> Duration {
        if self <= earlier {
            return Duration::ZERO;
        }
        let (mut secs, mut nanos) = (
            self.secs - earlier.secs,
            self.nanos as i64 - earlier.nanos as i64,
        );
        if nanos < 0 {
            secs -= 1;
            nanos += 1_000_000_000;
        }
        Duration::new(secs as u64, nanos as u32)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339_micros())
    }
}

impl std::str::FromStr for Timestamp {
    type Err = TimeError;
    fn from_str(s: &str) -> Result<Timestamp, TimeError> {
        Timestamp::parse(s)
    }
}

/// Parses an RFC 3339 time into whole seconds since the Unix epoch (floor).
pub fn parse_rfc3339(s: &str) -> Result<i64, TimeError> {
    Timestamp::parse(s).map(Timestamp::unix_secs)
}

/// Formats seconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SSZ` (UTC).
pub fn format_rfc3339(unix_secs: i64) -> String {
    let days = unix_secs.div_euclid(86_400);
    let secs = unix_secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Converts a civil date to days since 1970-01-01 (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Converts days since 1970-01-01 to a (year, month, day) civil date (H. Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_known_instants() {
        let cases = [
            (0, "1970-01-01T00:00:00Z"),
            (951_782_400, "2000-02-29T00:00:00Z"),
            (1_414_684_622, "2014-10-30T15:57:02Z"),
            (1_795_579_199, "2026-11-25T03:59:59Z"),
            (-1, "1969-12-31T23:59:59Z"),
        ];
        for (secs, want) in cases {
            assert_eq!(format_rfc3339(secs), want, "{secs}");
            assert_eq!(parse_rfc3339(want), Ok(secs), "{want}");
        }
    }

    #[test]
    fn parses_fractions_and_offsets() {
        // (input, unix secs, nanos)
        let cases = [
            ("2014-10-30T15:57:02Z", 1_414_684_622, 0),
            ("2014-10-30T15:57:02.5Z", 1_414_684_622, 500_000_000),
            ("2014-10-30T15:57:02.123456Z", 1_414_684_622, 123_456_000),
            (
                "2014-10-30T15:57:02.123456789123Z",
                1_414_684_622,
                123_456_789,
            ),
            ("2014-10-30T17:57:02+02:00", 1_414_684_622, 0),
            ("2014-10-30T10:27:02-05:30", 1_414_684_622, 0),
            ("2014-10-30t15:57:02z", 1_414_684_622, 0),
            ("2014-10-30 15:57:02Z", 1_414_684_622, 0),
            ("2016-12-31T23:59:60Z", 1_483_228_800, 0),
            ("1969-12-31T23:59:59.25Z", -1, 250_000_000),
        ];
        for (input, secs, nanos) in cases {
            let t = Timestamp::parse(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!((t.unix_secs(), t.subsec_nanos()), (secs, nanos), "{input}");
        }
    }

    #[test]
    fn refuses_malformed_times() {
        let cases = [
            "",
            "2014-10-30",
            "2014-10-30T15:57:02",
            "2014-10-30T15:57:02+0200",
            "2014-13-01T00:00:00Z",
            "2014-02-30T00:00:00Z",
            "2015-02-29T00:00:00Z",
            "2014-10-30T24:00:00Z",
            "2014-10-30T15:60:00Z",
            "2014-10-30T15:57:02.Z",
            "2014-10-30T15:57:02ZZ",
            "2014/10/30T15:57:02Z",
            "20x4-10-30T15:57:02Z",
            "2014-10-30T15:57:02+25:00",
            "２０１４-10-30T15:57:02Z",
        ];
        for input in cases {
            assert!(
                Timestamp::parse(input).is_err(),
                "{input:?} must be refused"
            );
        }
    }

    #[test]
    fn compares_and_measures_as_instants() {
        let a = Timestamp::parse("2014-10-30T15:57:02.900Z").unwrap();
        let b = Timestamp::parse("2014-10-30T17:57:03.100+02:00").unwrap();
        assert!(a < b);
        assert_eq!(b.saturating_duration_since(a), Duration::from_millis(200));
        assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
        assert_eq!(a.saturating_add(Duration::from_millis(200)), b);
        assert_eq!(
            Timestamp::from_unix(0, 1_500_000_000),
            Timestamp::from_unix(1, 500_000_000)
        );
    }

    #[test]
    fn micro_time_round_trips() {
        let t = Timestamp::from_unix(1_414_684_622, 123_456_789);
        assert_eq!(t.to_rfc3339_micros(), "2014-10-30T15:57:02.123456Z");
        assert_eq!(t.to_rfc3339(), "2014-10-30T15:57:02Z");
        let back = Timestamp::parse(&t.to_rfc3339_micros()).unwrap();
        assert_eq!(back, Timestamp::from_unix(1_414_684_622, 123_456_000));
    }
}
