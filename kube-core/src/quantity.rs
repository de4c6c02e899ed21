//! Resource quantities (`250m`, `64Mi`, `1G`, ...), following
//! `k8s.io/apimachinery/pkg/api/resource.Quantity`.
//!
//! A [`Quantity`] keeps the user's string; [`Quantity::parse`] turns it into a
//! [`ParsedQuantity`], an exact decimal `mantissa × 10^scale` (no floats) plus the
//! [`QuantityFormat`] the suffix implied.
//!
//! Grammar: `[+-]digits[.digits]suffix` (`.5` and `5.` are accepted, at least one digit is
//! required), where the suffix is one of the binary SI suffixes `Ki Mi Gi Ti Pi Ei`, the
//! decimal SI suffixes `n u m k M G T P E` or none, or a decimal exponent `e<int>`/`E<int>`.
//!
//! As in Kubernetes, parsing rounds values finer than `1n` up (away from zero) to the next
//! nanounit, caps binary-SI magnitudes at `i64::MAX`, and treats binary-SI magnitudes below 1
//! as decimal SI. [`ParsedQuantity::milli_value`] and [`ParsedQuantity::value`] round away from
//! zero and saturate at the `i64` bounds. `Display` follows apimachinery's canonical form.
//!
//! Simplifications compared with apimachinery (which uses arbitrary precision):
//! * at most 36 significant digits are kept after normalisation; longer mantissas are
//!   rejected with a [`QuantityError`], and so are base-10 scales outside `i32`;
//! * a lone sign or `.` (which apimachinery reads as zero) is rejected;
//! * a decimal-SI value whose canonical exponent exceeds 18 (beyond `E`) is printed in
//!   exponent form, e.g. `1e21` (apimachinery drops the suffix there).

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A resource quantity as written by the user; parsed on demand so validation can report bad ones by field.
///
/// Serialises as a JSON string; deserialises from a string or a number (`100`, `0.5`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Quantity(pub String);

/// How a quantity is written, decided by the suffix it was parsed with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum QuantityFormat {
    /// Decimal SI suffixes (`m`, `k`, `M`, ...) or none.
    DecimalSI,
    /// Binary SI suffixes (`Ki`, `Mi`, ...).
    BinarySI,
    /// Decimal exponent (`1e3`).
    DecimalExponent,
}

/// A quantity parsed exactly.
///
/// Equality, ordering and hashing consider the value only: `1Ki == 1024`.
#[derive(Clone, Copy, Debug)]
pub struct ParsedQuantity {
    /// Normalised: no trailing decimal zeros; zero has scale 0; `|mantissa| <= MAX_MANTISSA`.
    mantissa: i128,
    /// Base-10 exponent, at least -9 (nano).
    scale: i32,
    format: QuantityFormat,
}

/// A quantity that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$': {0:?}")]
pub struct QuantityError(pub String);

/// Largest mantissa kept (36 digits), leaving headroom to shift by up to two decimal places.
const MAX_MANTISSA: i128 = 999_999_999_999_999_999_999_999_999_999_999_999;
/// The finest precision kept: values are rounded up to whole nanounits.
const NANO_SCALE: i64 = -9;
/// Binary suffixes by power of 1024.
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

/// `10^k` when it fits an `i128`.
fn pow10(k: i64) -> Option<i128> {
    let k = u32::try_from(k).ok()?;
    10i128.checked_pow(k)
}

/// `m / 10^k`, rounded away from zero (`k >= 0`).
fn div_pow10_away(m: i128, k: i64) -> i128 {
    if m == 0 {
        return 0;
    }
    match pow10(k) {
        Some(p) => {
            let q = m / p;
            if m % p == 0 {
                q
            } else {
                q + m.signum()
            }
        }
        // 10^k exceeds every i128, so |m| < 10^k: the quotient is 0 with a remainder.
        None => m.signum(),
    }
}

/// Compares `|a| × 10^sa` with `|b| × 10^sb` exactly.
fn cmp_magnitude(a: u128, sa: i64, b: u128, sb: i64) -> Ordering {
    if a == 0 || b == 0 {
        return a.cmp(&b);
    }
    let shift = |m: u128, k: i64| -> Option<u128> {
        let k = u32::try_from(k).ok()?;
        10u128.checked_pow(k)?.checked_mul(m)
    };
    if sa >= sb {
        // Overflow means the left side exceeds every u128, hence b.
        shift(a, sa - sb).map_or(Ordering::Greater, |x| x.cmp(&b))
    } else {
        shift(b, sb - sa).map_or(Ordering::Less, |y| a.cmp(&y))
    }
}

/// Compares `a × 10^sa` with `b × 10^sb` exactly.
fn cmp_value(a: i128, sa: i64, b: i128, sb: i64) -> Ordering {
    let (sign_a, sign_b) = (a.signum(), b.signum());
    if sign_a != sign_b || sign_a == 0 {
        return sign_a.cmp(&sign_b);
    }
    let mag = cmp_magnitude(a.unsigned_abs(), sa, b.unsigned_abs(), sb);
    if sign_a > 0 {
        mag
    } else {
        mag.reverse()
    }
}

/// The decimal SI suffix for a base-10 exponent that is a multiple of 3.
fn decimal_suffix(exp: i64) -> Option<&'static str> {
    Some(match exp {
        -9 => "n",
        -6 => "u",
        -3 => "m",
        0 => "",
        3 => "k",
        6 => "M",
        9 => "G",
        12 => "T",
        15 => "P",
        18 => "E",
        _ => return None,
    })
}

impl ParsedQuantity {
    /// Parses a quantity string such as `250m`, `64Mi`, `1e3` or `-1.5`.
    pub fn parse(s: &str) -> Result<ParsedQuantity, QuantityError> {
        let err = || QuantityError(s.to_string());
        let b = s.as_bytes();
        let mut i = 0;
        let negative = match b.first() {
            Some(b'-') => {
                i = 1;
                true
            }
            Some(b'+') => {
                i = 1;
                false
            }
            _ => false,
        };
        // The digits form `mag × 10^pending_zeros × 10^-frac_digits`.
        let mut mag: u128 = 0;
        let mut pending_zeros: i64 = 0;
        let mut frac_digits: i64 = 0;
        let mut digits = 0usize;
        let mut seen_dot = false;
        while let Some(&c) = b.get(i) {
            match c {
                b'0'..=b'9' => {
                    digits += 1;
                    if seen_dot {
                        frac_digits += 1;
                    }
                    let d = u128::from(c - b'0');
                    if d == 0 {
                        pending_zeros += 1;
                    } else {
                        mag = if mag == 0 {
                            d
                        } else {
                            u32::try_from(pending_zeros + 1)
                                .ok()
                                .and_then(|k| 10u128.checked_pow(k))
                                .and_then(|p| mag.checked_mul(p))
                                .and_then(|m| m.checked_add(d))
                                .ok_or_else(err)?
                        };
                        pending_zeros = 0;
                    }
                }
                b'.' if !seen_dot => seen_dot = true,
                _ => break,
            }
            i += 1;
        }
        if digits == 0 {
            return Err(err());
        }
        let mut scale: i64 = if mag == 0 {
            0
        } else {
            pending_zeros - frac_digits
        };
        // `i` only advanced over ASCII bytes, so it is a char boundary.
        let suffix = s.get(i..).ok_or_else(err)?;
        let (format, exp10, pow1024) = match suffix {
            "" => (QuantityFormat::DecimalSI, 0, 0),
            "n" => (QuantityFormat::DecimalSI, -9, 0),
            "u" => (QuantityFormat::DecimalSI, -6, 0),
            "m" => (QuantityFormat::DecimalSI, -3, 0),
            "k" => (QuantityFormat::DecimalSI, 3, 0),
            "M" => (QuantityFormat::DecimalSI, 6, 0),
            "G" => (QuantityFormat::DecimalSI, 9, 0),
            "T" => (QuantityFormat::DecimalSI, 12, 0),
            "P" => (QuantityFormat::DecimalSI, 15, 0),
            "E" => (QuantityFormat::DecimalSI, 18, 0),
            "Ki" => (QuantityFormat::BinarySI, 0, 1),
            "Mi" => (QuantityFormat::BinarySI, 0, 2),
            "Gi" => (QuantityFormat::BinarySI, 0, 3),
            "Ti" => (QuantityFormat::BinarySI, 0, 4),
            "Pi" => (QuantityFormat::BinarySI, 0, 5),
            "Ei" => (QuantityFormat::BinarySI, 0, 6),
            other => {
                let exp = other
                    .strip_prefix(['e', 'E'])
                    .filter(|e| e.bytes().last().is_some_and(|c| c.is_ascii_digit()))
                    .and_then(|e| e.parse::<i64>().ok())
                    .ok_or_else(err)?;
                (QuantityFormat::DecimalExponent, exp, 0)
            }
        };
        if mag != 0 {
            scale = scale.checked_add(exp10).ok_or_else(err)?;
        }
        if pow1024 > 0 {
            mag = mag.checked_mul(1u128 << (10 * pow1024)).ok_or_else(err)?;
        }
        let mut mantissa = i128::try_from(mag).map_err(|_| err())?;
        if negative {
            mantissa = -mantissa;
        }
        let (mut mantissa, mut scale) = normalize(mantissa, scale);
        if scale < NANO_SCALE {
            (mantissa, scale) = normalize(div_pow10_away(mantissa, NANO_SCALE - scale), NANO_SCALE);
        }
        let mut format = format;
        if format == QuantityFormat::BinarySI {
            let magnitude = mantissa.unsigned_abs();
            if cmp_magnitude(magnitude, scale, i64::MAX.unsigned_abs().into(), 0)
                == Ordering::Greater
            {
                mantissa = mantissa.signum() * i128::from(i64::MAX);
                scale = 0;
            } else if mantissa != 0 && cmp_magnitude(magnitude, scale, 1, 0) == Ordering::Less {
                format = QuantityFormat::DecimalSI;
            }
        }
        if mantissa.unsigned_abs() > MAX_MANTISSA.unsigned_abs() {
            return Err(err());
        }
        let scale = i32::try_from(scale).map_err(|_| err())?;
        Ok(ParsedQuantity {
            mantissa,
            scale,
            format,
        })
    }

    /// The quantity `v / 1000` (e.g. CPU millicores), in decimal SI.
    pub fn from_milli(v: i64) -> ParsedQuantity {
        let (mantissa, scale) = normalize(i128::from(v), -3);
        ParsedQuantity {
            mantissa,
            scale: scale as i32,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// The quantity `v` (e.g. bytes), in decimal SI.
    pub fn from_value(v: i64) -> ParsedQuantity {
        let (mantissa, scale) = normalize(i128::from(v), 0);
        ParsedQuantity {
            mantissa,
            scale: scale as i32,
            format: QuantityFormat::DecimalSI,
        }
    }

    /// Value in thousandths, rounded up (CPU `250m` → 250).
    pub fn milli_value(&self) -> i64 {
        self.scaled(3)
    }

    /// Value in units, rounded up (memory `64Mi` → 67108864).
    pub fn value(&self) -> i64 {
        self.scaled(0)
    }

    /// The format the quantity was written in (it decides how `Display` writes it).
    pub fn format(&self) -> QuantityFormat {
        self.format
    }

    /// True when the quantity is zero.
    pub fn is_zero(&self) -> bool {
        self.mantissa == 0
    }

    /// True when the quantity is below zero.
    pub fn is_negative(&self) -> bool {
        self.mantissa < 0
    }

    /// `value × 10^unit_exp`, rounded away from zero and saturated to `i64`.
    fn scaled(&self, unit_exp: i64) -> i64 {
        let e = i64::from(self.scale) + unit_exp;
        let m = self.mantissa;
        let r = if e >= 0 {
            match pow10(e).and_then(|p| m.checked_mul(p)) {
                Some(r) => r,
                None if m < 0 => i128::MIN,
                None => i128::MAX,
            }
        } else {
            div_pow10_away(m, -e)
        };
        i64::try_from(r).unwrap_or(if r < 0 { i64::MIN } else { i64::MAX })
    }

    /// The integer value when it is whole and fits an `i128`.
    fn whole(&self) -> Option<i128> {
        if self.scale < 0 {
            return None;
        }
        pow10(i64::from(self.scale)).and_then(|p| self.mantissa.checked_mul(p))
    }
}

/// Strips trailing decimal zeros into the scale; zero gets scale 0.
fn normalize(mut mantissa: i128, mut scale: i64) -> (i128, i64) {
    if mantissa == 0 {
        return (0, 0);
    }
    while mantissa % 10 == 0 {
        mantissa /= 10;
        scale += 1;
    }
    (mantissa, scale)
}

impl PartialEq for ParsedQuantity {
    fn eq(&self, other: &Self) -> bool {
        // Both sides are normalised, so equal values have equal parts.
        self.mantissa == other.mantissa && self.scale == other.scale
    }
}

impl Eq for ParsedQuantity {}

impl Hash for ParsedQuantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.mantissa.hash(state);
        self.scale.hash(state);
    }
}

impl PartialOrd for ParsedQuantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ParsedQuantity {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_value(
            self.mantissa,
            i64::from(self.scale),
            other.mantissa,
            i64::from(other.scale),
        )
    }
}

impl fmt::Display for ParsedQuantity {
    /// Writes the canonical form: `1000m` → `1`, `0.5` → `500m`, `1536Mi` → `1536Mi`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.mantissa == 0 {
            return f.write_str("0");
        }
        if self.format == QuantityFormat::BinarySI
            && cmp_magnitude(self.mantissa.unsigned_abs(), i64::from(self.scale), 1024, 0)
                != Ordering::Less
        {
            // Whole values are written with the largest exact power of 1024; others fall
            // through to decimal SI so no precision is lost.
            if let Some(mut n) = self.whole() {
                let mut k = 0;
                while k + 1 < BINARY_SUFFIXES.len() && n % 1024 == 0 {
                    n /= 1024;
                    k += 1;
                }
                return write!(f, "{n}{}", BINARY_SUFFIXES[k]);
            }
        }
        // Lower the exponent to a multiple of 3; |mantissa| < 10^36 leaves room for ×100.
        let mut m = self.mantissa;
        let mut e = i64::from(self.scale);
        let r = e.rem_euclid(3);
        if r != 0 {
            m *= if r == 1 { 10 } else { 100 };
            e -= r;
        }
        let suffix = match self.format {
            QuantityFormat::DecimalExponent => None,
            _ => decimal_suffix(e),
        };
        match suffix {
            Some(suffix) => write!(f, "{m}{suffix}"),
            None if e == 0 => write!(f, "{m}"),
            None => write!(f, "{m}e{e}"),
        }
    }
}

impl FromStr for ParsedQuantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<ParsedQuantity, QuantityError> {
        ParsedQuantity::parse(s)
    }
}

impl Quantity {
    /// Parses the quantity.
    pub fn parse(&self) -> Result<ParsedQuantity, QuantityError> {
        ParsedQuantity::parse(&self.0)
    }

    /// The quantity `v / 1000` in canonical form (`250` → `250m`, `1000` → `1`).
    pub fn from_milli(v: i64) -> Quantity {
        Quantity(ParsedQuantity::from_milli(v).to_string())
    }

    /// The quantity `v` in canonical form (`64` → `64`, `2000` → `2k`).
    pub fn from_value(v: i64) -> Quantity {
        Quantity(ParsedQuantity::from_value(v).to_string())
    }

    /// Value in thousandths, rounded up; fails when the quantity does not parse.
    pub fn milli_value(&self) -> Result<i64, QuantityError> {
        Ok(self.parse()?.milli_value())
    }

    /// Value in units, rounded up; fails when the quantity does not parse.
    pub fn value(&self) -> Result<i64, QuantityError> {
        Ok(self.parse()?.value())
    }
}

impl From<ParsedQuantity> for Quantity {
    fn from(q: ParsedQuantity) -> Quantity {
        Quantity(q.to_string())
    }
}

impl From<&str> for Quantity {
    fn from(s: &str) -> Quantity {
        Quantity(s.to_string())
    }
}

impl fmt::Display for Quantity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl Serialize for Quantity {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Quantity, D::Error> {
        deserializer.deserialize_any(QuantityVisitor)
    }
}

/// Accepts any string (checked later by `parse`) or a number, kept as its decimal text.
struct QuantityVisitor;

impl Visitor<'_> for QuantityVisitor {
    type Value = Quantity;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a quantity string or number")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Quantity, E> {
        Ok(Quantity(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Quantity, E> {
        Ok(Quantity(v.to_string()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
        if !v.is_finite() {
            return Err(E::invalid_value(de::Unexpected::Float(v), &self));
        }
        // Rust prints the shortest decimal that round-trips, never in exponent form.
        Ok(Quantity(v.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Canonical form, milli value and value; `None` when the input is invalid.
    type Expected = Option<(&'static str, i64, i64)>;

    #[test]
    fn parse_display_and_values() {
        // (input, Some((canonical, milli_value, value))) or None when invalid.
        let max = i64::MAX;
        let cases: &[(&str, Expected)] = &[
            ("250m", Some(("250m", 250, 1))),
            ("0.5", Some(("500m", 500, 1))),
            ("64Mi", Some(("64Mi", 67_108_864_000, 67_108_864))),
            ("1G", Some(("1G", 1_000_000_000_000, 1_000_000_000))),
            ("1e3", Some(("1e3", 1_000_000, 1000))),
            ("1E3", Some(("1e3", 1_000_000, 1000))),
            ("1e+3", Some(("1e3", 1_000_000, 1000))),
            ("1E-3", Some(("1e-3", 1, 1))),
            ("12e6", Some(("12e6", 12_000_000_000, 12_000_000))),
            ("1E", Some(("1E", max, 1_000_000_000_000_000_000))),
            ("+1", Some(("1", 1000, 1))),
            ("-1", Some(("-1", -1000, -1))),
            (".5", Some(("500m", 500, 1))),
            ("5.", Some(("5", 5000, 5))),
            ("1.G", Some(("1G", 1_000_000_000_000, 1_000_000_000))),
            ("1Ki", Some(("1Ki", 1_024_000, 1024))),
            ("100n", Some(("100n", 1, 1))),
            ("1.5Gi", Some(("1536Mi", 1_610_612_736_000, 1_610_612_736))),
            ("1536Mi", Some(("1536Mi", 1_610_612_736_000, 1_610_612_736))),
            ("2048Ki", Some(("2Mi", 2_097_152_000, 2_097_152))),
            ("1.5Ki", Some(("1536", 1_536_000, 1536))),
            ("0.5Ki", Some(("512", 512_000, 512))),
            ("1.1Ki", Some(("1126400m", 1_126_400, 1127))),
            ("-2048", Some(("-2048", -2_048_000, -2048))),
            ("-2Ki", Some(("-2Ki", -2_048_000, -2048))),
            ("0.001Ki", Some(("1024m", 1024, 2))),
            ("0", Some(("0", 0, 0))),
            ("-0", Some(("0", 0, 0))),
            ("0.000", Some(("0", 0, 0))),
            ("0Mi", Some(("0", 0, 0))),
            ("000123", Some(("123", 123_000, 123))),
            ("1000", Some(("1k", 1_000_000, 1000))),
            ("1000m", Some(("1", 1000, 1))),
            ("1500m", Some(("1500m", 1500, 2))),
            ("1.5", Some(("1500m", 1500, 2))),
            ("-1.5", Some(("-1500m", -1500, -2))),
            ("0.1m", Some(("100u", 1, 1))),
            ("1u", Some(("1u", 1, 1))),
            ("0.1n", Some(("1n", 1, 1))),
            ("-0.1n", Some(("-1n", -1, -1))),
            ("1e-20", Some(("1e-9", 1, 1))),
            ("8Ei", Some(("9223372036854775807", max, max))),
            ("-8Ei", Some(("-9223372036854775807", i64::MIN, -max))),
            (
                "9223372036854775808",
                Some(("9223372036854775808", max, max)),
            ),
            (
                "-9223372036854775809",
                Some(("-9223372036854775809", i64::MIN, i64::MIN)),
            ),
            ("1000E", Some(("1e21", max, max))),
            ("1e1000", Some(("10e999", max, max))),
            (
                "123456789012345678901234567890",
                Some(("123456789012345678901234567890", max, max)),
            ),
            ("", None),
            ("abc", None),
            ("1.2.3", None),
            ("10Mb", None),
            ("1 Gi", None),
            (" 1", None),
            ("1K", None),
            ("1e", None),
            ("1e+", None),
            (".", None),
            ("-", None),
            ("1E3Mi", None),
            ("1234567890123456789012345678901234567", None),
            ("--1", None),
        ];
        for &(input, want) in cases {
            let got = ParsedQuantity::parse(input)
                .map(|q| (q.to_string(), q.milli_value(), q.value()))
                .ok();
            let want = want.map(|(s, m, v)| (s.to_string(), m, v));
            assert_eq!(got, want, "{input}");
            if let Some((canonical, _, _)) = &want {
                // The canonical form parses back to the same value and prints the same.
                let again = ParsedQuantity::parse(canonical).map(|q| q.to_string());
                assert_eq!(again.as_deref(), Ok(canonical.as_str()), "{input}");
                assert_eq!(
                    ParsedQuantity::parse(canonical).ok(),
                    ParsedQuantity::parse(input).ok(),
                    "{input}"
                );
            }
        }
    }

    #[test]
    fn more_invalid_inputs() {
        let cases = [
            "1ki", "Ki", "+", "1..", "1Gii", "1e3.5", "0x10", "1m1", "1 ", "1e1.", "1e-", "m",
            "1mi", "e3", "1,5", "1_000", "１",
        ];
        for input in cases {
            let got = ParsedQuantity::parse(input);
            assert_eq!(got, Err(QuantityError(input.to_string())), "{input}");
        }
    }

    #[test]
    fn formats() {
        let cases = [
            ("1", QuantityFormat::DecimalSI),
            ("1m", QuantityFormat::DecimalSI),
            ("1Ki", QuantityFormat::BinarySI),
            ("0.5Ki", QuantityFormat::BinarySI),
            ("0.0005Ki", QuantityFormat::DecimalSI),
            ("1e3", QuantityFormat::DecimalExponent),
        ];
        for (input, want) in cases {
            let got = ParsedQuantity::parse(input).map(|q| q.format());
            assert_eq!(got, Ok(want), "{input}");
        }
    }

    #[test]
    fn ordering() {
        use Ordering::*;
        let cases = [
            ("1Ki", "1024", Equal),
            ("1k", "1Ki", Less),
            ("500m", "0.5", Equal),
            ("-1", "0", Less),
            ("-2", "-1", Less),
            ("0", "-0", Equal),
            ("1e1000", "1E", Greater),
            ("-1e1000", "-1E", Less),
            ("1e1000", "1e999", Greater),
            ("1n", "0", Greater),
            ("100m", "0.1", Equal),
            ("1Gi", "1G", Greater),
            ("999m", "1", Less),
            ("1e-3", "1m", Equal),
            ("0.1n", "1n", Equal),
            ("1.000000001", "1", Greater),
            (
                "123456789012345678901234567890",
                "123456789012345678901234567891",
                Less,
            ),
            ("8Ei", "9223372036854775807", Equal),
        ];
        for (a, b, want) in cases {
            let (qa, qb) = match (ParsedQuantity::parse(a), ParsedQuantity::parse(b)) {
                (Ok(qa), Ok(qb)) => (qa, qb),
                other => panic!("{a} {b}: {other:?}"),
            };
            assert_eq!(qa.cmp(&qb), want, "{a} vs {b}");
            assert_eq!(qb.cmp(&qa), want.reverse(), "{b} vs {a}");
            assert_eq!(qa == qb, want == Equal, "{a} == {b}");
        }
    }

    #[test]
    fn constructors() {
        // (n, from_milli(n), from_value(n))
        let cases = [
            (0, "0", "0"),
            (1, "1m", "1"),
            (250, "250m", "250"),
            (1000, "1", "1k"),
            (1500, "1500m", "1500"),
            (-250, "-250m", "-250"),
            (67_108_864, "67108864m", "67108864"),
            (2_000_000, "2k", "2M"),
            (i64::MAX, "9223372036854775807m", "9223372036854775807"),
            (i64::MIN, "-9223372036854775808m", "-9223372036854775808"),
        ];
        for (n, want_milli, want_value) in cases {
            let m = Quantity::from_milli(n);
            let v = Quantity::from_value(n);
            assert_eq!(m, Quantity(want_milli.to_string()), "{n}");
            assert_eq!(v, Quantity(want_value.to_string()), "{n}");
            assert_eq!(m.milli_value(), Ok(n), "{n}");
            assert_eq!(v.value(), Ok(n), "{n}");
            assert_eq!(Quantity::from(ParsedQuantity::from_milli(n)), m, "{n}");
        }
    }

    #[test]
    fn quantity_helpers() {
        let cases = [
            ("250m", Ok(250), Ok(1)),
            ("2", Ok(2000), Ok(2)),
            (
                "x",
                Err(QuantityError("x".into())),
                Err(QuantityError("x".into())),
            ),
        ];
        for (input, want_milli, want_value) in cases {
            let q = Quantity::from(input);
            assert_eq!(q.milli_value(), want_milli, "{input}");
            assert_eq!(q.value(), want_value, "{input}");
            assert_eq!(q.to_string(), input, "{input}");
        }
    }

    #[test]
    fn serde_json() {
        // (json, Some(string held)) or None when rejected.
        let cases = [
            (r#""250m""#, Some("250m")),
            (r#""not a quantity""#, Some("not a quantity")),
            ("100", Some("100")),
            ("-2", Some("-2")),
            ("0.5", Some("0.5")),
            ("1e3", Some("1000")),
            ("18446744073709551615", Some("18446744073709551615")),
            ("true", None),
            ("null", None),
            ("[1]", None),
        ];
        for (json, want) in cases {
            let got = serde_json::from_str::<Quantity>(json).ok();
            assert_eq!(got, want.map(Quantity::from), "{json}");
            if let Some(q) = got {
                let out = serde_json::to_string(&q).map_err(|e| e.to_string());
                assert_eq!(out, Ok(format!("{:?}", q.0)), "{json}");
            }
        }
    }
}
