//! Labels and label selectors, following `k8s.io/apimachinery/pkg/labels`.
//!
//! A [`Selector`] is an AND of [`Requirement`]s. [`Selector::parse`] accepts the
//! apimachinery grammar (`a=b`, `a==b`, `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`,
//! joined by commas); the parsed requirements are sorted by key (stably), as apimachinery
//! does, so `Display` output is deterministic and parses back to an equal selector.
//! Matching never allocates.
//!
//! The `is_dns*` helpers and the key/value validators implement the checks of
//! `k8s.io/apimachinery/pkg/util/validation`. Like Kubernetes, a DNS-1123 subdomain is only
//! limited to 253 characters overall; its dot-separated labels have no 63-character limit.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

/// A label set.
pub type Labels = BTreeMap<String, String>;

/// Maximum length of the name part of a qualified name (label key) and of a label value.
const QUALIFIED_NAME_MAX_LEN: usize = 63;
/// Maximum length of a label value.
const LABEL_VALUE_MAX_LEN: usize = 63;
/// Maximum length of a DNS-1123 label and of a DNS-1035 label.
const DNS_LABEL_MAX_LEN: usize = 63;
/// Maximum length of a DNS-1123 subdomain.
const DNS1123_SUBDOMAIN_MAX_LEN: usize = 253;

const QUALIFIED_NAME_ERR: &str = "must consist of alphanumeric characters, '-', '_' or '.', \
     and must start and end with an alphanumeric character (e.g. 'MyName', or 'my.name', or \
     '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

const LABEL_VALUE_ERR: &str = "a valid label must be an empty string or consist of alphanumeric \
     characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. \
     'MyValue', or 'my_value', or '12345', regex used for validation is \
     '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

const DNS1123_SUBDOMAIN_ERR: &str = "must be a lowercase RFC 1123 subdomain: it must consist of \
     lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric \
     character (e.g. 'example.com', regex used for validation is \
     '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

/// One condition of a label selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Requirement {
    /// `key=value` or `key==value`: the label is present and equal to `value`.
    Equals {
        /// The label key.
        key: String,
        /// The required value (may be empty).
        value: String,
    },
    /// `key!=value`: the label is absent or different from `value`.
    NotEquals {
        /// The label key.
        key: String,
        /// The excluded value (may be empty).
        value: String,
    },
    /// `key in (v1,v2)`: the label is present and its value is in the set.
    In {
        /// The label key.
        key: String,
        /// The accepted values.
        values: BTreeSet<String>,
    },
    /// `key notin (v1,v2)`: the label is absent or its value is not in the set.
    NotIn {
        /// The label key.
        key: String,
        /// The excluded values.
        values: BTreeSet<String>,
    },
    /// `key`: the label is present, with any value.
    Exists {
        /// The label key.
        key: String,
    },
    /// `!key`: the label is absent.
    DoesNotExist {
        /// The label key.
        key: String,
    },
}

impl Requirement {
    /// The label key the requirement is about.
    pub fn key(&self) -> &str {
        match self {
            Requirement::Equals { key, .. }
            | Requirement::NotEquals { key, .. }
            | Requirement::In { key, .. }
            | Requirement::NotIn { key, .. }
            | Requirement::Exists { key }
            | Requirement::DoesNotExist { key } => key,
        }
    }

    /// Whether the labels satisfy this requirement (never allocates).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        match self {
            Requirement::Equals { key, value } => {
                labels.get(key.as_str()).is_some_and(|v| v == value)
            }
            Requirement::NotEquals { key, value } => {
                labels.get(key.as_str()).is_none_or(|v| v != value)
            }
            Requirement::In { key, values } => labels
                .get(key.as_str())
                .is_some_and(|v| values.contains(v.as_str())),
            Requirement::NotIn { key, values } => labels
                .get(key.as_str())
                .is_none_or(|v| !values.contains(v.as_str())),
            Requirement::Exists { key } => labels.contains_key(key.as_str()),
            Requirement::DoesNotExist { key } => !labels.contains_key(key.as_str()),
        }
    }
}

/// Writes a value set as `(a,b)`; the set holding only `""` is written `(,)` so it parses back.
fn write_value_set(f: &mut fmt::Formatter<'_>, values: &BTreeSet<String>) -> fmt::Result {
    f.write_str("(")?;
    if values.len() == 1 && values.contains("") {
        f.write_str(",")?;
    } else {
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            f.write_str(v)?;
        }
    }
    f.write_str(")")
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Requirement::Equals { key, value } => write!(f, "{key}={value}"),
            Requirement::NotEquals { key, value } => write!(f, "{key}!={value}"),
            Requirement::In { key, values } => {
                write!(f, "{key} in ")?;
                write_value_set(f, values)
            }
            Requirement::NotIn { key, values } => {
                write!(f, "{key} notin ")?;
                write_value_set(f, values)
            }
            Requirement::Exists { key } => f.write_str(key),
            Requirement::DoesNotExist { key } => write!(f, "!{key}"),
        }
    }
}

/// A parsed label selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// A selector that failed to parse.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unable to parse selector at position {position}: {message}")]
pub struct SelectorParseError {
    /// Byte offset of the problem.
    pub position: usize,
    /// What is wrong.
    pub message: String,
}

impl SelectorParseError {
    /// Builds an error at a byte offset.
    pub fn new(position: usize, message: impl Into<String>) -> SelectorParseError {
        SelectorParseError {
            position,
            message: message.into(),
        }
    }
}

impl Selector {
    /// Parses `a=b,c!=d,e in (x,y),!f`.
    pub fn parse(s: &str) -> Result<Selector, SelectorParseError> {
        let mut lexer = Lexer { s, pos: 0 };
        let mut requirements = Vec::new();
        if lexer.peek().1 == Tok::End {
            return Ok(Selector::everything());
        }
        loop {
            requirements.push(parse_requirement(&mut lexer)?);
            match lexer.next() {
                (_, Tok::End) => break,
                (_, Tok::Comma) => {}
                (pos, tok) => {
                    return Err(SelectorParseError::new(
                        pos,
                        format!("expected ',' or end, found {tok}"),
                    ))
                }
            }
        }
        // Stable: requirements on the same key keep their input order.
        requirements.sort_by(|a, b| a.key().cmp(b.key()));
        Ok(Selector { requirements })
    }

    /// The selector that matches everything.
    pub fn everything() -> Selector {
        Selector {
            requirements: Vec::new(),
        }
    }

    /// An equality selector from a map (`k=v` for each entry).
    pub fn from_map(m: &BTreeMap<String, String>) -> Selector {
        Selector {
            requirements: m
                .iter()
                .map(|(k, v)| Requirement::Equals {
                    key: k.clone(),
                    value: v.clone(),
                })
                .collect(),
        }
    }

    /// Whether the labels satisfy every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// True when the selector has no requirements.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// The requirements, sorted by key.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// The value the selector requires for `key` through an `=` requirement, if any.
    pub fn requires_exact_match(&self, key: &str) -> Option<&str> {
        self.requirements.iter().find_map(|r| match r {
            Requirement::Equals { key: k, value } if k == key => Some(value.as_str()),
            Requirement::In { key: k, values } if k == key && values.len() == 1 => {
                values.iter().next().map(String::as_str)
            }
            _ => None,
        })
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

impl FromStr for Selector {
    type Err = SelectorParseError;

    fn from_str(s: &str) -> Result<Selector, SelectorParseError> {
        Selector::parse(s)
    }
}

/// A lexical token of the selector grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tok<'a> {
    /// A key, a value, or the words `in`/`notin` (the parser decides by context).
    Word(&'a str),
    Bang,
    Eq,
    DoubleEq,
    NotEq,
    OpenPar,
    ClosePar,
    Comma,
    /// `<` or `>`: recognised as symbols (apimachinery has them) but not supported.
    Unsupported(&'a str),
    End,
}

impl fmt::Display for Tok<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Word(w) | Tok::Unsupported(w) => write!(f, "'{w}'"),
            Tok::Bang => f.write_str("'!'"),
            Tok::Eq => f.write_str("'='"),
            Tok::DoubleEq => f.write_str("'=='"),
            Tok::NotEq => f.write_str("'!='"),
            Tok::OpenPar => f.write_str("'('"),
            Tok::ClosePar => f.write_str("')'"),
            Tok::Comma => f.write_str("','"),
            Tok::End => f.write_str("end of string"),
        }
    }
}

fn is_whitespace(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_special(b: u8) -> bool {
    matches!(b, b'=' | b'!' | b'(' | b')' | b',' | b'<' | b'>')
}

/// Splits the input into tokens on demand; cheap to copy for look-ahead.
#[derive(Clone, Copy)]
struct Lexer<'a> {
    s: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    /// Consumes the next token, returning its byte offset.
    fn next(&mut self) -> (usize, Tok<'a>) {
        let b = self.s.as_bytes();
        while self.pos < b.len() && is_whitespace(b[self.pos]) {
            self.pos += 1;
        }
        let start = self.pos;
        let Some(&c) = b.get(start) else {
            return (start, Tok::End);
        };
        let second = b.get(start + 1).copied();
        let (tok, len) = match c {
            b'!' if second == Some(b'=') => (Tok::NotEq, 2),
            b'!' => (Tok::Bang, 1),
            b'=' if second == Some(b'=') => (Tok::DoubleEq, 2),
            b'=' => (Tok::Eq, 1),
            b'(' => (Tok::OpenPar, 1),
            b')' => (Tok::ClosePar, 1),
            b',' => (Tok::Comma, 1),
            b'<' => (Tok::Unsupported("<"), 1),
            b'>' => (Tok::Unsupported(">"), 1),
            _ => {
                let mut end = start;
                while end < b.len() && !is_whitespace(b[end]) && !is_special(b[end]) {
                    end += 1;
                }
                // Token boundaries are ASCII bytes, so the slice is on char boundaries.
                (Tok::Word(&self.s[start..end]), end - start)
            }
        };
        self.pos = start + len;
        (start, tok)
    }

    /// The next token without consuming it.
    fn peek(&self) -> (usize, Tok<'a>) {
        let mut copy = *self;
        copy.next()
    }
}

fn parse_requirement(lexer: &mut Lexer<'_>) -> Result<Requirement, SelectorParseError> {
    let (pos, tok) = lexer.next();
    let (negated, key_pos, key) = match tok {
        Tok::Bang => match lexer.next() {
            (p, Tok::Word(w)) => (true, p, w),
            (p, t) => {
                return Err(SelectorParseError::new(
                    p,
                    format!("expected a label key after '!', found {t}"),
                ))
            }
        },
        Tok::Word(w) => (false, pos, w),
        t => {
            return Err(SelectorParseError::new(
                pos,
                format!("expected a label key or '!', found {t}"),
            ))
        }
    };
    validate_label_key(key)
        .map_err(|m| SelectorParseError::new(key_pos, format!("invalid label key '{key}': {m}")))?;
    let key_owned = key.to_string();
    let (op_pos, op) = lexer.peek();
    if matches!(op, Tok::Comma | Tok::End) {
        return Ok(if negated {
            Requirement::DoesNotExist { key: key_owned }
        } else {
            Requirement::Exists { key: key_owned }
        });
    }
    if negated {
        return Err(SelectorParseError::new(
            op_pos,
            format!("expected ',' or end after '!{key}', found {op}"),
        ));
    }
    lexer.next();
    match op {
        Tok::Eq | Tok::DoubleEq => Ok(Requirement::Equals {
            value: parse_exact_value(lexer, key)?,
            key: key_owned,
        }),
        Tok::NotEq => Ok(Requirement::NotEquals {
            value: parse_exact_value(lexer, key)?,
            key: key_owned,
        }),
        Tok::Word("in") => Ok(Requirement::In {
            values: parse_value_set(lexer, key, "in")?,
            key: key_owned,
        }),
        Tok::Word("notin") => Ok(Requirement::NotIn {
            values: parse_value_set(lexer, key, "notin")?,
            key: key_owned,
        }),
        t => Err(SelectorParseError::new(
            op_pos,
            format!("expected one of '=', '==', '!=', 'in', 'notin', ',' or end, found {t}"),
        )),
    }
}

fn check_value(pos: usize, key: &str, value: &str) -> Result<(), SelectorParseError> {
    validate_label_value(value).map_err(|m| {
        SelectorParseError::new(
            pos,
            format!("invalid value '{value}' for label key '{key}': {m}"),
        )
    })
}

/// The value after `=`, `==` or `!=`; empty when a comma or the end follows.
fn parse_exact_value(lexer: &mut Lexer<'_>, key: &str) -> Result<String, SelectorParseError> {
    match lexer.peek() {
        (_, Tok::Comma | Tok::End) => Ok(String::new()),
        (pos, Tok::Word(w)) => {
            lexer.next();
            check_value(pos, key, w)?;
            Ok(w.to_string())
        }
        (pos, t) => Err(SelectorParseError::new(
            pos,
            format!("expected a label value, ',' or end, found {t}"),
        )),
    }
}

/// A parenthesised, non-empty value list; empty items (`(a,)`) stand for the empty value.
fn parse_value_set(
    lexer: &mut Lexer<'_>,
    key: &str,
    op: &str,
) -> Result<BTreeSet<String>, SelectorParseError> {
    match lexer.next() {
        (_, Tok::OpenPar) => {}
        (pos, t) => {
            return Err(SelectorParseError::new(
                pos,
                format!("expected '(' after '{op}', found {t}"),
            ))
        }
    }
    if let (pos, Tok::ClosePar) = lexer.peek() {
        return Err(SelectorParseError::new(
            pos,
            format!("'{op}' requires at least one value, found ')'"),
        ));
    }
    let mut values = BTreeSet::new();
    loop {
        match lexer.peek() {
            (pos, Tok::Word(w)) => {
                lexer.next();
                check_value(pos, key, w)?;
                values.insert(w.to_string());
            }
            (_, Tok::Comma | Tok::ClosePar) => {
                values.insert(String::new());
            }
            (pos, t) => {
                return Err(SelectorParseError::new(
                    pos,
                    format!("expected a label value, ',' or ')', found {t}"),
                ))
            }
        }
        match lexer.next() {
            (_, Tok::Comma) => {}
            (_, Tok::ClosePar) => return Ok(values),
            (pos, t) => {
                return Err(SelectorParseError::new(
                    pos,
                    format!("expected ',' or ')', found {t}"),
                ))
            }
        }
    }
}

/// `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]`: non-empty, alphanumeric at both ends.
fn is_qualified_name_part(s: &str) -> bool {
    let b = s.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
        }
        _ => false,
    }
}

/// `[a-z0-9]([-a-z0-9]*[a-z0-9])?` without a length limit.
fn is_dns1123_label_shape(s: &str) -> bool {
    let b = s.as_bytes();
    let lower_alnum = |c: &u8| c.is_ascii_lowercase() || c.is_ascii_digit();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            lower_alnum(first)
                && lower_alnum(last)
                && b.iter().all(|c| lower_alnum(c) || *c == b'-')
        }
        _ => false,
    }
}

/// Whether `s` is a DNS-1123 label: at most 63 characters of `[a-z0-9]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1123_label(s: &str) -> bool {
    s.len() <= DNS_LABEL_MAX_LEN && is_dns1123_label_shape(s)
}

/// Whether `s` is a DNS-1123 subdomain: at most 253 characters of DNS-1123 labels joined by `.`.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    s.len() <= DNS1123_SUBDOMAIN_MAX_LEN && s.split('.').all(is_dns1123_label_shape)
}

/// Whether `s` is a DNS-1035 label: at most 63 characters of `[a-z]([-a-z0-9]*[a-z0-9])?`.
pub fn is_dns1035_label(s: &str) -> bool {
    s.len() <= DNS_LABEL_MAX_LEN
        && s.as_bytes().first().is_some_and(u8::is_ascii_lowercase)
        && is_dns1123_label_shape(s)
}

/// Checks a label key (optional DNS-1123 subdomain prefix and `/`, then a name of up to 63 characters).
pub fn validate_label_key(key: &str) -> Result<(), String> {
    let mut errs: Vec<String> = Vec::new();
    let name = match key.split_once('/') {
        None => key,
        Some((_, name)) if name.contains('/') => {
            return Err(format!(
                "a qualified name {QUALIFIED_NAME_ERR} with an optional DNS subdomain prefix \
                 and '/' (e.g. 'example.com/MyName')"
            ));
        }
        Some((prefix, name)) => {
            if prefix.is_empty() {
                errs.push("prefix part must be non-empty".to_string());
            } else if prefix.len() > DNS1123_SUBDOMAIN_MAX_LEN {
                errs.push(format!(
                    "prefix part must be no more than {DNS1123_SUBDOMAIN_MAX_LEN} characters"
                ));
            } else if !is_dns1123_subdomain(prefix) {
                errs.push(format!("prefix part {DNS1123_SUBDOMAIN_ERR}"));
            }
            name
        }
    };
    if name.is_empty() {
        errs.push("name part must be non-empty".to_string());
    } else {
        if name.len() > QUALIFIED_NAME_MAX_LEN {
            errs.push(format!(
                "name part must be no more than {QUALIFIED_NAME_MAX_LEN} characters"
            ));
        }
        if !is_qualified_name_part(name) {
            errs.push(format!("name part {QUALIFIED_NAME_ERR}"));
        }
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// Checks a label value (empty, or up to 63 characters of `[A-Za-z0-9_.-]`, alphanumeric at both ends).
pub fn validate_label_value(value: &str) -> Result<(), String> {
    if value.is_empty() {
        return Ok(());
    }
    let mut errs: Vec<String> = Vec::new();
    if value.len() > LABEL_VALUE_MAX_LEN {
        errs.push(format!(
            "must be no more than {LABEL_VALUE_MAX_LEN} characters"
        ));
    }
    if !is_qualified_name_part(value) {
        errs.push(LABEL_VALUE_ERR.to_string());
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs.join("; "))
    }
}

/// Formats a label map as `k=v,k2=v2` (sorted), as kubecfg tables print them.
pub fn format_labels(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a label set from `k=v,k2=v2` (test-only shorthand; `""` is the empty set).
    fn labels(s: &str) -> Labels {
        s.split(',')
            .filter(|kv| !kv.is_empty())
            .map(|kv| match kv.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (kv.to_string(), String::new()),
            })
            .collect()
    }

    #[test]
    fn parse_display_and_match() {
        // (selector, canonical display, labels, want match)
        let cases = [
            ("", "", "", true),
            ("   ", "", "a=b", true),
            ("a=b", "a=b", "a=b", true),
            ("a=b", "a=b", "a=c", false),
            ("a=b", "a=b", "", false),
            ("a==b", "a=b", "a=b,c=d", true),
            (" a = b ", "a=b", "a=b", true),
            ("a!=b", "a!=b", "a=c", true),
            ("a!=b", "a!=b", "", true),
            ("a!=b", "a!=b", "a=b", false),
            ("a=", "a=", "a=", true),
            ("a=", "a=", "", false),
            ("a=", "a=", "a=x", false),
            ("a!=", "a!=", "a=", false),
            ("a!=", "a!=", "", true),
            ("a in (x,y)", "a in (x,y)", "a=y", true),
            ("a in (y, x)", "a in (x,y)", "a=z", false),
            ("a in (x)", "a in (x)", "", false),
            ("a in(x)", "a in (x)", "a=x", true),
            ("a notin (x)", "a notin (x)", "", true),
            ("a notin (x,y)", "a notin (x,y)", "a=x", false),
            ("a notin (x,y)", "a notin (x,y)", "a=z", true),
            ("a", "a", "a=", true),
            ("a", "a", "b=a", false),
            ("!a", "!a", "b=c", true),
            ("!a", "!a", "a=c", false),
            (" ! a ", "!a", "", true),
            ("b=2,a=1", "a=1,b=2", "a=1,b=2,c=3", true),
            ("b=2,a=1", "a=1,b=2", "a=1", false),
            (
                "x in (foo,,baz),y,z notin (w)",
                "x in (,baz,foo),y,z notin (w)",
                "x=,y=1",
                true,
            ),
            ("a in (,)", "a in (,)", "a=", true),
            ("a in (x,)", "a in (,x)", "a=", true),
            ("a in (in,notin)", "a in (in,notin)", "a=notin", true),
            ("in in (in)", "in in (in)", "in=in", true),
            ("notin", "notin", "notin=1", true),
            ("a=in", "a=in", "a=in", true),
            (
                "example.com/app=web,tier notin (db)",
                "example.com/app=web,tier notin (db)",
                "example.com/app=web",
                true,
            ),
            ("a=1,a!=2", "a=1,a!=2", "a=1", true),
            ("a!=2,a=1", "a!=2,a=1", "a=2", false),
            (
                "k.io/x_y-z=A.b_c-1",
                "k.io/x_y-z=A.b_c-1",
                "k.io/x_y-z=A.b_c-1",
                true,
            ),
        ];
        for (input, want_display, label_str, want_match) in cases {
            let sel = match Selector::parse(input) {
                Ok(s) => s,
                Err(e) => panic!("{input}: {e}"),
            };
            assert_eq!(sel.to_string(), want_display, "{input}");
            assert_eq!(
                sel.matches(&labels(label_str)),
                want_match,
                "{input} vs {label_str}"
            );
            let reparsed: Selector = match sel.to_string().parse() {
                Ok(s) => s,
                Err(e) => panic!("{input}: reparse: {e}"),
            };
            assert_eq!(reparsed, sel, "{input}");
        }
    }

    #[test]
    fn requirements_are_structured() {
        let cases = [
            (
                "a in (y,x)",
                vec![Requirement::In {
                    key: "a".into(),
                    values: ["x".to_string(), "y".to_string()].into(),
                }],
            ),
            (
                "!b,a==1",
                vec![
                    Requirement::Equals {
                        key: "a".into(),
                        value: "1".into(),
                    },
                    Requirement::DoesNotExist { key: "b".into() },
                ],
            ),
            (
                "c notin (z),c",
                vec![
                    Requirement::NotIn {
                        key: "c".into(),
                        values: ["z".to_string()].into(),
                    },
                    Requirement::Exists { key: "c".into() },
                ],
            ),
            (
                "d!=",
                vec![Requirement::NotEquals {
                    key: "d".into(),
                    value: String::new(),
                }],
            ),
        ];
        for (input, want) in cases {
            let sel = Selector::parse(input).map_err(|e| e.to_string());
            assert_eq!(
                sel.as_ref().map(|s| s.requirements()),
                Ok(&want[..]),
                "{input}"
            );
        }
    }

    #[test]
    fn parse_errors() {
        // (input, position, message prefix)
        let cases = [
            (
                "a<1",
                1,
                "expected one of '=', '==', '!=', 'in', 'notin', ',' or end, found '<'",
            ),
            (
                "a b",
                2,
                "expected one of '=', '==', '!=', 'in', 'notin', ',' or end, found 'b'",
            ),
            ("a=b c", 4, "expected ',' or end, found 'c'"),
            (
                "a=b,",
                4,
                "expected a label key or '!', found end of string",
            ),
            (",a", 0, "expected a label key or '!', found ','"),
            ("a=b,,c", 4, "expected a label key or '!', found ','"),
            ("=b", 0, "expected a label key or '!', found '='"),
            (
                "!",
                1,
                "expected a label key after '!', found end of string",
            ),
            ("!a=b", 2, "expected ',' or end after '!a', found '='"),
            ("a in x", 5, "expected '(' after 'in', found 'x'"),
            ("a in ()", 6, "'in' requires at least one value, found ')'"),
            (
                "a notin ()",
                9,
                "'notin' requires at least one value, found ')'",
            ),
            ("a in (x", 7, "expected ',' or ')', found end of string"),
            ("a in (x y)", 8, "expected ',' or ')', found 'y'"),
            (
                "a in (x,=)",
                8,
                "expected a label value, ',' or ')', found '='",
            ),
            ("a in (x", 7, "expected ',' or ')', found end of string"),
            ("a==(", 3, "expected a label value, ',' or end, found '('"),
            ("a=b=c", 3, "expected ',' or end, found '='"),
            (
                "-a=b",
                0,
                "invalid label key '-a': name part must consist of",
            ),
            (
                "x,a/b/c",
                2,
                "invalid label key 'a/b/c': a qualified name must consist",
            ),
            (
                "/a",
                0,
                "invalid label key '/a': prefix part must be non-empty",
            ),
            (
                "A.com/a",
                0,
                "invalid label key 'A.com/a': prefix part must be a lowercase",
            ),
            (
                "a.com/",
                0,
                "invalid label key 'a.com/': name part must be non-empty",
            ),
            ("a=-b", 2, "invalid value '-b' for label key 'a'"),
            ("a in (ok, b_)", 10, "invalid value 'b_' for label key 'a'"),
            ("é=1", 0, "invalid label key 'é'"),
        ];
        for (input, want_pos, want_msg) in cases {
            match Selector::parse(input) {
                Ok(s) => panic!("{input}: parsed as {s}"),
                Err(e) => {
                    assert_eq!(e.position, want_pos, "{input}: {e}");
                    assert!(e.message.starts_with(want_msg), "{input}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn from_map_and_empty() {
        let cases = [
            ("", "", true),
            ("a=1", "a=1", false),
            ("b=2,a=1", "a=1,b=2", false),
        ];
        for (input, want, want_empty) in cases {
            let m = labels(input);
            let sel = Selector::from_map(&m);
            assert_eq!(sel.to_string(), want, "{input}");
            assert_eq!(sel.is_empty(), want_empty, "{input}");
            assert!(sel.matches(&m), "{input}");
            assert_eq!(format_labels(&m), want, "{input}");
        }
        assert!(Selector::everything().is_empty());
        assert!(Selector::everything().matches(&labels("a=1")));
    }

    #[test]
    fn exact_match_lookup() {
        let cases = [
            ("a=1,b=2", "b", Some("2")),
            ("a in (x)", "a", Some("x")),
            ("a in (x,y)", "a", None),
            ("a!=1", "a", None),
            ("", "a", None),
        ];
        for (input, key, want) in cases {
            let sel = Selector::parse(input).unwrap_or_default();
            assert_eq!(sel.requires_exact_match(key), want, "{input}");
        }
    }

    #[test]
    fn label_keys() {
        let long63 = "a".repeat(63);
        let long64 = "a".repeat(64);
        let prefix253 = format!("{}.com", "a".repeat(249));
        let prefix254 = format!("{}.com", "a".repeat(250));
        let cases: Vec<(String, Result<(), &str>)> = vec![
            ("a".into(), Ok(())),
            ("A".into(), Ok(())),
            ("app.kubernetes.io/name".into(), Ok(())),
            ("My_Key-1.x".into(), Ok(())),
            ("k8s.io/A".into(), Ok(())),
            (long63.clone(), Ok(())),
            (format!("{prefix253}/{long63}"), Ok(())),
            ("".into(), Err("name part must be non-empty")),
            ("-a".into(), Err("name part must consist of alphanumeric")),
            ("a_".into(), Err("name part must consist of alphanumeric")),
            ("a b".into(), Err("name part must consist of alphanumeric")),
            (long64, Err("name part must be no more than 63 characters")),
            ("/a".into(), Err("prefix part must be non-empty")),
            ("a/".into(), Err("name part must be non-empty")),
            ("a/b/c".into(), Err("a qualified name must consist")),
            (
                "Example.com/a".into(),
                Err("prefix part must be a lowercase RFC 1123"),
            ),
            (
                "a..b/a".into(),
                Err("prefix part must be a lowercase RFC 1123"),
            ),
            (
                format!("{prefix254}/a"),
                Err("prefix part must be no more than 253 characters"),
            ),
            (
                "-x/-y".into(),
                Err("prefix part must be a lowercase RFC 1123"),
            ),
        ];
        for (input, want) in cases {
            let got = validate_label_key(&input);
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{input}"),
                Err(prefix) => {
                    let msg = got.err().unwrap_or_default();
                    assert!(msg.starts_with(prefix), "{input}: {msg}");
                }
            }
        }
        // Both parts wrong: both are reported.
        let msg = validate_label_key("-x/-y").err().unwrap_or_default();
        assert!(msg.contains("; name part must consist"), "{msg}");
    }

    #[test]
    fn label_values() {
        let cases: Vec<(String, Result<(), &str>)> = vec![
            ("".into(), Ok(())),
            ("a".into(), Ok(())),
            ("1".into(), Ok(())),
            ("My.Value_1-2".into(), Ok(())),
            ("a".repeat(63), Ok(())),
            ("a".repeat(64), Err("must be no more than 63 characters")),
            ("-a".into(), Err("a valid label must be an empty string")),
            ("a.".into(), Err("a valid label must be an empty string")),
            ("a/b".into(), Err("a valid label must be an empty string")),
            ("a b".into(), Err("a valid label must be an empty string")),
        ];
        for (input, want) in cases {
            let got = validate_label_value(&input);
            match want {
                Ok(()) => assert_eq!(got, Ok(()), "{input}"),
                Err(prefix) => {
                    let msg = got.err().unwrap_or_default();
                    assert!(msg.starts_with(prefix), "{input}: {msg}");
                }
            }
        }
    }

    #[test]
    fn dns_names() {
        // (input, dns1123 label, dns1123 subdomain, dns1035 label)
        let long63 = "a".repeat(63);
        let long64 = "a".repeat(64);
        let sub253 = format!("{}.{}.{}.{}", long63, long63, long63, "a".repeat(61));
        let sub254 = format!("{sub253}a");
        let cases: Vec<(String, bool, bool, bool)> = vec![
            ("a".into(), true, true, true),
            ("abc-123".into(), true, true, true),
            ("1abc".into(), true, true, false),
            ("0".into(), true, true, false),
            ("".into(), false, false, false),
            ("-a".into(), false, false, false),
            ("a-".into(), false, false, false),
            ("A".into(), false, false, false),
            ("a_b".into(), false, false, false),
            ("a.b".into(), false, true, false),
            ("a..b".into(), false, false, false),
            (".a".into(), false, false, false),
            ("a.".into(), false, false, false),
            ("a.-b".into(), false, false, false),
            (long63.clone(), true, true, true),
            (long64.clone(), false, true, false),
            (sub253, false, true, false),
            (sub254, false, false, false),
        ];
        for (input, label, subdomain, dns1035) in cases {
            assert_eq!(is_dns1123_label(&input), label, "{input}");
            assert_eq!(is_dns1123_subdomain(&input), subdomain, "{input}");
            assert_eq!(is_dns1035_label(&input), dns1035, "{input}");
        }
    }
}
