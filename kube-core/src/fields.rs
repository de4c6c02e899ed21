//! Field selectors (`metadata.name=x,spec.nodeName!=`), following
//! `k8s.io/apimachinery/pkg/fields`.
//!
//! A selector is an AND of terms `field=value`, `field==value` or `field!=value` separated
//! by commas. Values may be empty (`spec.nodeName=` selects objects with no node). Inside a
//! value, `\,`, `\=` and `\\` stand for `,`, `=` and `\`; an unescaped `,` ends the term and an
//! unescaped `=` is an error, as in Kubernetes. Whitespace around field names and values is
//! ignored, and empty terms (`a=b,,c=d`) are skipped like apimachinery does. Terms keep their
//! input order.

use std::fmt;
use std::str::FromStr;

use crate::labels::SelectorParseError;

/// The comparison of a field selector term.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FieldOperator {
    /// `=` or `==`: the field equals the value.
    Equals,
    /// `!=`: the field differs from the value.
    NotEquals,
}

/// One `field<op>value` term of a field selector.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct FieldRequirement {
    /// The field path, e.g. `metadata.name`.
    pub field: String,
    /// How the field is compared.
    pub operator: FieldOperator,
    /// The value compared against (unescaped; may be empty).
    pub value: String,
}

impl FieldRequirement {
    /// Whether the object's value for the field satisfies the term; `None` (unknown field) never does.
    pub fn matches(&self, actual: Option<&str>) -> bool {
        match (actual, self.operator) {
            (None, _) => false,
            (Some(v), FieldOperator::Equals) => v == self.value,
            (Some(v), FieldOperator::NotEquals) => v != self.value,
        }
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.field)?;
        f.write_str(match self.operator {
            FieldOperator::Equals => "=",
            FieldOperator::NotEquals => "!=",
        })?;
        f.write_str(&escape_value(&self.value))
    }
}

/// A parsed field selector.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    terms: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses `f=v`, `f==v`, `f!=v` terms separated by commas.
    pub fn parse(s: &str) -> Result<FieldSelector, SelectorParseError> {
        let mut terms = Vec::new();
        let bytes = s.as_bytes();
        let mut start = 0;
        let mut i = 0;
        while i <= bytes.len() {
            match bytes.get(i) {
                Some(b'\\') => i = (i + 2).min(bytes.len()),
                Some(b',') | None => {
                    let term = &s[start..i];
                    if !term.trim().is_empty() {
                        terms.push(parse_term(term, start)?);
                    }
                    i += 1;
                    start = i;
                }
                Some(_) => i += 1,
            }
        }
        Ok(FieldSelector { terms })
    }

    /// The selector that matches everything.
    pub fn everything() -> FieldSelector {
        FieldSelector { terms: Vec::new() }
    }

    /// True when the selector has no terms.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }

    /// The terms, in input order.
    pub fn terms(&self) -> &[FieldRequirement] {
        &self.terms
    }

    /// Whether the object's fields (looked up through `get`) satisfy every term; unknown fields never match.
    pub fn matches(&self, get: &dyn Fn(&str) -> Option<String>) -> bool {
        self.terms
            .iter()
            .all(|t| t.matches(get(&t.field).as_deref()))
    }

    /// Field names used by the selector (so callers can reject unsupported ones).
    pub fn fields(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.terms {
            if !out.contains(&t.field) {
                out.push(t.field.clone());
            }
        }
        out
    }

    /// The value the selector requires for `field` through an `=` term, if any.
    pub fn requires_exact_match(&self, field: &str) -> Option<&str> {
        self.terms
            .iter()
            .find(|t| t.field == field && t.operator == FieldOperator::Equals)
            .map(|t| t.value.as_str())
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, t) in self.terms.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{t}")?;
        }
        Ok(())
    }
}

impl FromStr for FieldSelector {
    type Err = SelectorParseError;

    fn from_str(s: &str) -> Result<FieldSelector, SelectorParseError> {
        FieldSelector::parse(s)
    }
}

/// Escapes `\`, `,` and `=` in a value so that it parses back unchanged.
pub fn escape_value(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Parses one non-empty term starting at byte `offset` of the whole selector.
fn parse_term(term: &str, offset: usize) -> Result<FieldRequirement, SelectorParseError> {
    let bytes = term.as_bytes();
    // The first unescaped operator splits the term.
    let mut i = 0;
    let found = loop {
        match bytes.get(i) {
            None => break None,
            Some(b'\\') => i += 2,
            Some(b'!') if bytes.get(i + 1) == Some(&b'=') => {
                break Some((i, 2, FieldOperator::NotEquals))
            }
            Some(b'=') if bytes.get(i + 1) == Some(&b'=') => {
                break Some((i, 2, FieldOperator::Equals))
            }
            Some(b'=') => break Some((i, 1, FieldOperator::Equals)),
            Some(_) => i += 1,
        }
    };
    let lead = term.len() - term.trim_start().len();
    let Some((op_at, op_len, operator)) = found else {
        return Err(SelectorParseError::new(
            offset + lead,
            format!(
                "expected '=', '==' or '!=' in field selector term '{}'",
                term.trim()
            ),
        ));
    };
    let field_raw = &term[..op_at];
    let field = field_raw.trim();
    if field.is_empty() {
        return Err(SelectorParseError::new(
            offset + op_at,
            "expected a field name before the operator",
        ));
    }
    if let Some(bad) = field
        .char_indices()
        .find(|(_, c)| c.is_whitespace() || matches!(c, '\\' | '!' | '(' | ')'))
    {
        return Err(SelectorParseError::new(
            offset + lead + bad.0,
            format!("invalid character '{}' in field name '{field}'", bad.1),
        ));
    }
    let value_start = op_at + op_len;
    let value_raw = &term[value_start..];
    let value_lead = value_raw.len() - value_raw.trim_start().len();
    let value = unescape_value(value_raw.trim(), offset + value_start + value_lead)?;
    Ok(FieldRequirement {
        field: field.to_string(),
        operator,
        value,
    })
}

/// Resolves `\\`, `\,` and `\=`; an unescaped `=` or any other escape is an error.
fn unescape_value(v: &str, offset: usize) -> Result<String, SelectorParseError> {
    let mut out = String::with_capacity(v.len());
    let mut chars = v.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some((_, e @ ('\\' | ',' | '='))) => out.push(e),
                Some((_, e)) => {
                    return Err(SelectorParseError::new(
                        offset + i,
                        format!("invalid escape sequence '\\{e}' in field selector value"),
                    ))
                }
                None => {
                    return Err(SelectorParseError::new(
                        offset + i,
                        "invalid escape sequence '\\' at the end of a field selector value",
                    ))
                }
            },
            '=' => {
                return Err(SelectorParseError::new(
                    offset + i,
                    "unescaped '=' in field selector value (write it as '\\=')",
                ))
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pod-like object: `metadata.name=web`, `spec.nodeName=` (unbound), `status.phase=Pending`.
    fn pod_field(f: &str) -> Option<String> {
        match f {
            "metadata.name" => Some("web".into()),
            "metadata.namespace" => Some("default".into()),
            "spec.nodeName" => Some(String::new()),
            "status.phase" => Some("Pending".into()),
            "metadata.annotation" => Some("a,b=c\\d".into()),
            _ => None,
        }
    }

    #[test]
    fn parse_display_and_match() {
        // (selector, canonical display, fields, matches the pod)
        let cases = [
            ("", "", vec![], true),
            ("  ", "", vec![], true),
            (
                "metadata.name=web",
                "metadata.name=web",
                vec!["metadata.name"],
                true,
            ),
            (
                "metadata.name==web",
                "metadata.name=web",
                vec!["metadata.name"],
                true,
            ),
            (
                "metadata.name!=web",
                "metadata.name!=web",
                vec!["metadata.name"],
                false,
            ),
            (
                "metadata.name=db",
                "metadata.name=db",
                vec!["metadata.name"],
                false,
            ),
            (
                "spec.nodeName=",
                "spec.nodeName=",
                vec!["spec.nodeName"],
                true,
            ),
            (
                "spec.nodeName!=",
                "spec.nodeName!=",
                vec!["spec.nodeName"],
                false,
            ),
            (
                "spec.nodeName==",
                "spec.nodeName=",
                vec!["spec.nodeName"],
                true,
            ),
            (
                " status.phase = Pending , metadata.name != db ",
                "status.phase=Pending,metadata.name!=db",
                vec!["status.phase", "metadata.name"],
                true,
            ),
            (
                "metadata.name=web,metadata.name!=db",
                "metadata.name=web,metadata.name!=db",
                vec!["metadata.name"],
                true,
            ),
            (
                "a=b,,metadata.name=web,",
                "a=b,metadata.name=web",
                vec!["a", "metadata.name"],
                false,
            ),
            (
                "spec.unknown!=x",
                "spec.unknown!=x",
                vec!["spec.unknown"],
                false,
            ),
            (
                "spec.unknown=",
                "spec.unknown=",
                vec!["spec.unknown"],
                false,
            ),
            (
                r"metadata.annotation=a\,b\=c\\d",
                r"metadata.annotation=a\,b\=c\\d",
                vec!["metadata.annotation"],
                true,
            ),
            (
                "status.phase=Pend!ng",
                "status.phase=Pend!ng",
                vec!["status.phase"],
                false,
            ),
        ];
        for (input, want_display, want_fields, want_match) in cases {
            let sel = match FieldSelector::parse(input) {
                Ok(s) => s,
                Err(e) => panic!("{input}: {e}"),
            };
            assert_eq!(sel.to_string(), want_display, "{input}");
            assert_eq!(sel.fields(), want_fields, "{input}");
            assert_eq!(sel.matches(&pod_field), want_match, "{input}");
            assert_eq!(sel.is_empty(), want_fields.is_empty(), "{input}");
            let reparsed: FieldSelector = match sel.to_string().parse() {
                Ok(s) => s,
                Err(e) => panic!("{input}: reparse: {e}"),
            };
            assert_eq!(reparsed, sel, "{input}");
        }
    }

    #[test]
    fn structured_terms() {
        let cases = [
            (
                r"spec.nodeName!=n1,metadata.name=a\,b",
                vec![
                    FieldRequirement {
                        field: "spec.nodeName".into(),
                        operator: FieldOperator::NotEquals,
                        value: "n1".into(),
                    },
                    FieldRequirement {
                        field: "metadata.name".into(),
                        operator: FieldOperator::Equals,
                        value: "a,b".into(),
                    },
                ],
            ),
            (
                "a==",
                vec![FieldRequirement {
                    field: "a".into(),
                    operator: FieldOperator::Equals,
                    value: String::new(),
                }],
            ),
        ];
        for (input, want) in cases {
            let sel = FieldSelector::parse(input).map_err(|e| e.to_string());
            assert_eq!(sel.as_ref().map(|s| s.terms()), Ok(&want[..]), "{input}");
        }
    }

    #[test]
    fn exact_match_lookup() {
        let cases = [
            (
                "spec.nodeName=n1,metadata.name=x",
                "spec.nodeName",
                Some("n1"),
            ),
            ("spec.nodeName=", "spec.nodeName", Some("")),
            ("spec.nodeName!=n1", "spec.nodeName", None),
            ("", "spec.nodeName", None),
        ];
        for (input, field, want) in cases {
            let sel = FieldSelector::parse(input).unwrap_or_default();
            assert_eq!(sel.requires_exact_match(field), want, "{input}");
        }
    }

    #[test]
    fn parse_errors() {
        // (input, position, message prefix)
        let cases = [
            (
                "metadata.name",
                0,
                "expected '=', '==' or '!=' in field selector term 'metadata.name'",
            ),
            (
                "a=b, c",
                5,
                "expected '=', '==' or '!=' in field selector term 'c'",
            ),
            ("=x", 0, "expected a field name before the operator"),
            ("a=b,!=x", 4, "expected a field name before the operator"),
            ("a b=c", 1, "invalid character ' ' in field name 'a b'"),
            ("a!b=c", 1, "invalid character '!' in field name 'a!b'"),
            ("a=b=c", 3, "unescaped '='"),
            ("a==b=c", 4, "unescaped '='"),
            ("a!==c", 3, "unescaped '='"),
            (r"a=b\x", 3, r"invalid escape sequence '\x'"),
            (r"x=1,a= b\", 8, r"invalid escape sequence '\'"),
        ];
        for (input, want_pos, want_msg) in cases {
            match FieldSelector::parse(input) {
                Ok(s) => panic!("{input}: parsed as {s}"),
                Err(e) => {
                    assert_eq!(e.position, want_pos, "{input}: {e}");
                    assert!(e.message.starts_with(want_msg), "{input}: {}", e.message);
                }
            }
        }
    }

    #[test]
    fn escaping() {
        let cases = [
            ("", ""),
            ("a", "a"),
            ("a,b", r"a\,b"),
            ("a=b", r"a\=b"),
            (r"a\b", r"a\\b"),
        ];
        for (input, want) in cases {
            assert_eq!(escape_value(input), want, "{input}");
            assert_eq!(unescape_value(want, 0).as_deref(), Ok(input), "{input}");
        }
    }
}
