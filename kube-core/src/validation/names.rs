//! Name syntaxes (DNS labels and subdomains, IANA service names, environment variable
//! names, path segments) and small value checks, each returning the Kubernetes message.

use crate::labels::{is_dns1035_label, is_dns1123_label, is_dns1123_subdomain};
use std::net::IpAddr;

/// Longest DNS-1123 label (and DNS-1035 label).
pub(super) const DNS1123_LABEL_MAX: usize = 63;
/// Longest DNS-1123 subdomain.
pub(super) const DNS1123_SUBDOMAIN_MAX: usize = 253;
/// Longest IANA service name (a named port).
const IANA_SVC_NAME_MAX: usize = 15;

/// Detail for a port number outside 1..=65535.
pub(super) const PORT_RANGE_MSG: &str = "must be between 1 and 65535, inclusive";
/// Detail for a negative number.
pub(super) const NON_NEGATIVE_MSG: &str = "must be greater than or equal to 0";
/// Detail for a changed immutable field.
pub(super) const IMMUTABLE_MSG: &str = "field is immutable";

const DNS1123_LABEL_MSG: &str =
    "a lowercase RFC 1123 label must consist of lower case alphanumeric \
characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or \
'123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";

const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case \
alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. \
'example.com', regex used for validation is \
'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric \
characters or '-', start with an alphabetic character, and end with an alphanumeric character \
(e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

const ENV_VAR_NAME_MSG: &str = "a valid environment variable name must consist of alphabetic \
characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or \
'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')";

fn max_len_msg(max: usize) -> String {
    format!("must be no more than {max} characters")
}

/// Why `s` is not a DNS-1123 label, if it is not.
pub(super) fn dns1123_label_error(s: &str) -> Option<String> {
    if s.len() > DNS1123_LABEL_MAX {
        Some(max_len_msg(DNS1123_LABEL_MAX))
    } else if !is_dns1123_label(s) {
        Some(DNS1123_LABEL_MSG.to_string())
    } else {
        None
    }
}

/// Why `s` is not a DNS-1123 subdomain, if it is not.
pub(super) fn dns1123_subdomain_error(s: &str) -> Option<String> {
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        Some(max_len_msg(DNS1123_SUBDOMAIN_MAX))
    } else if !is_dns1123_subdomain(s) {
        Some(DNS1123_SUBDOMAIN_MSG.to_string())
    } else {
        None
    }
}

/// Why `s` is not a DNS-1035 label, if it is not.
pub(super) fn dns1035_label_error(s: &str) -> Option<String> {
    if s.len() > DNS1123_LABEL_MAX {
        Some(max_len_msg(DNS1123_LABEL_MAX))
    } else if !is_dns1035_label(s) {
        Some(DNS1035_LABEL_MSG.to_string())
    } else {
        None
    }
}

/// Why `s` is not a valid path-segment name (non-empty, at most 253 bytes, not `.` or `..`,
/// no `/` or `%`), if it is not.
pub(super) fn path_segment_name_error(s: &str) -> Option<String> {
    let mut msgs = Vec::new();
    if s == "." || s == ".." {
        msgs.push(format!("may not be '{s}'"));
    }
    if s.len() > DNS1123_SUBDOMAIN_MAX {
        msgs.push(max_len_msg(DNS1123_SUBDOMAIN_MAX));
    }
    for bad in ['/', '%'] {
        if s.contains(bad) {
            msgs.push(format!("may not contain '{bad}'"));
        }
    }
    join(msgs)
}

/// Why `s` is not an IANA_SVC_NAME (a port name), if it is not.
pub(super) fn iana_svc_name_error(s: &str) -> Option<String> {
    let mut msgs = Vec::new();
    if s.len() > IANA_SVC_NAME_MAX {
        msgs.push(max_len_msg(IANA_SVC_NAME_MAX));
    }
    if !s
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        msgs.push("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".into());
    }
    if s.contains("--") {
        msgs.push("must not contain consecutive hyphens".into());
    }
    if !s.bytes().any(|b| b.is_ascii_lowercase()) {
        msgs.push("must contain at least one letter (a-z)".into());
    }
    if s.starts_with('-') || s.ends_with('-') {
        msgs.push("hyphens cannot be the first or last character".into());
    }
    join(msgs)
}

/// Why `s` is not an environment variable name (`[-._a-zA-Z][-._a-zA-Z0-9]*`), if it is not.
pub(super) fn env_var_name_error(s: &str) -> Option<String> {
    let ok_first = |b: u8| b.is_ascii_alphabetic() || matches!(b, b'-' | b'.' | b'_');
    let ok_rest = |b: u8| ok_first(b) || b.is_ascii_digit();
    let mut bytes = s.bytes();
    let valid = match bytes.next() {
        Some(first) => ok_first(first) && bytes.all(ok_rest),
        None => false,
    };
    (!valid).then(|| ENV_VAR_NAME_MSG.to_string())
}

/// Whether `s` is an IPv4 or IPv6 address.
pub(super) fn is_ip(s: &str) -> bool {
    s.parse::<IpAddr>().is_ok()
}

/// Whether `s` is a CIDR such as `10.244.1.0/24` or `fd00::/64`.
pub(super) fn is_cidr(s: &str) -> bool {
    let Some((ip, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(ip) = ip.parse::<IpAddr>() else {
        return false;
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// Whether `p` is a port number (1..=65535).
pub(super) fn is_port(p: i32) -> bool {
    (1..=65535).contains(&p)
}

fn join(msgs: Vec<String>) -> Option<String> {
    (!msgs.is_empty()).then(|| msgs.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iana_svc_names() {
        let cases = [
            ("http", true),
            ("redis-1", true),
            ("a", true),
            ("123", false),
            ("-http", false),
            ("http-", false),
            ("ht--tp", false),
            ("HTTP", false),
            ("a-very-long-port-name", false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(iana_svc_name_error(name).is_none(), ok, "{name:?}");
        }
    }

    #[test]
    fn env_var_names() {
        let cases = [
            ("PATH", true),
            ("my.env-name", true),
            ("_X1", true),
            ("-a", true),
            ("1A", false),
            ("A B", false),
            ("A=B", false),
            ("", false),
        ];
        for (name, ok) in cases {
            assert_eq!(env_var_name_error(name).is_none(), ok, "{name:?}");
        }
    }

    #[test]
    fn path_segment_names() {
        let long = "a".repeat(254);
        let cases = [
            ("redisController", true),
            ("a.b", true),
            (".", false),
            ("..", false),
            ("a/b", false),
            ("a%2F", false),
            (long.as_str(), false),
        ];
        for (name, ok) in cases {
            assert_eq!(path_segment_name_error(name).is_none(), ok, "{name:?}");
        }
    }

    #[test]
    fn addresses() {
        assert!(is_ip("10.0.0.1"));
        assert!(is_ip("fd00::1"));
        assert!(!is_ip("10.0.0.256"));
        assert!(!is_ip("None"));
        assert!(is_cidr("10.244.1.0/24"));
        assert!(is_cidr("fd00::/64"));
        assert!(!is_cidr("10.244.1.0/33"));
        assert!(!is_cidr("10.244.1.0"));
        assert!(!is_cidr("10.244.1.0/+8"));
        assert!(is_port(1) && is_port(65535));
        assert!(!is_port(0) && !is_port(65536) && !is_port(-1));
    }
}
