//! `Warning` response headers (RFC 7234's `299 - "text"`), as Kubernetes' warning recorder
//! sends them: [`add`] anywhere while a request is handled inside [`recorded`], and the
//! response carries one header per distinct text, in order.
//!
//! Like Kubernetes' recorder, the texts are bounded: once they pass [`TOTAL_CHARS`]
//! characters in all, every text (those already recorded, then the new ones) is cut to
//! [`ITEM_CHARS`] characters, and once that budget is spent again the rest are dropped.
//! Control characters cannot go in a header and are escaped.

use super::body::ApiBody;
use hyper::header::{HeaderValue, WARNING};
use hyper::Response;
use std::cell::RefCell;
use std::collections::HashSet;
use std::future::Future;

/// Characters of warning text a response carries before texts are cut.
pub const TOTAL_CHARS: usize = 4 * 1024;

/// Characters each text is cut to once [`TOTAL_CHARS`] is passed.
pub const ITEM_CHARS: usize = 256;

tokio::task_local! {
    /// The warnings of the request being handled.
    static WARNINGS: RefCell<Recorder>;
}

/// Records a warning for the response of the request being handled (nothing outside [`recorded`]).
pub fn add(text: &str) {
    let _ = WARNINGS.try_with(|w| w.borrow_mut().add(text));
}

/// Records several warnings, in order.
pub fn add_all<S: AsRef<str>>(texts: impl IntoIterator<Item = S>) {
    for t in texts {
        add(t.as_ref());
    }
}

/// Runs a request's handler, then puts the warnings it recorded on its response.
pub async fn recorded<V, F>(handler: F) -> (V, Response<ApiBody>)
where
    F: Future<Output = (V, Response<ApiBody>)>,
{
    let (result, recorder) = WARNINGS
        .scope(RefCell::new(Recorder::default()), async {
            let result = handler.await;
            let recorder = WARNINGS.with(|w| std::mem::take(&mut *w.borrow_mut()));
            (result, recorder)
        })
        .await;
    let (verb, mut resp) = result;
    for h in recorder.headers() {
        resp.headers_mut().append(WARNING, h);
    }
    (verb, resp)
}

/// The distinct warnings of one response, bounded as Kubernetes bounds them.
#[derive(Debug, Default)]
pub struct Recorder {
    seen: HashSet<String>,
    /// The texts as sent.
    texts: Vec<String>,
    /// Every distinct text as given (to replay them cut once the budget is passed).
    given: Vec<String>,
    written: usize,
    truncating: bool,
}

impl Recorder {
    /// Adds a warning unless the same text was already added or the budget is spent.
    pub fn add(&mut self, text: &str) {
        if text.is_empty() || (self.truncating && self.written >= TOTAL_CHARS) {
            return;
        }
        if !self.seen.insert(text.to_string()) {
            return;
        }
        self.given.push(text.to_string());
        let len = text.chars().count();
        if self.truncating {
            let cut = cut(text);
            self.written += cut.chars().count();
            self.texts.push(cut);
            return;
        }
        if self.written + len <= TOTAL_CHARS {
            self.written += len;
            self.texts.push(text.to_string());
            return;
        }
        self.truncating = true;
        self.written = 0;
        self.texts.clear();
        for t in &self.given {
            let cut = cut(t);
            self.written += cut.chars().count();
            self.texts.push(cut);
        }
    }

    /// The texts to send, in order.
    pub fn texts(&self) -> &[String] {
        &self.texts
    }

    /// One `Warning` header value per text: `299 - "text"` (quotes and backslashes escaped,
    /// control characters written as `\u{..}`).
    pub fn headers(&self) -> Vec<HeaderValue> {
        self.texts
            .iter()
            .filter_map(|t| HeaderValue::from_str(&header_value(t)).ok())
            .collect()
    }
}

/// A text cut to [`ITEM_CHARS`] characters.
fn cut(text: &str) -> String {
    text.chars().take(ITEM_CHARS).collect()
}

/// `299 - "text"`, as Kubernetes' `NewWarningHeader` formats it (with control characters
/// escaped rather than refused).
pub fn header_value(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    out.push_str("299 - \"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push_str(&c.escape_unicode().to_string()),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The text of a `Warning` header value (`299 - "text"`, or any code and agent), unescaped;
/// `None` when it is not one.
pub fn parse_header(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, ' ');
    let code = parts.next()?;
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    parts.next()?;
    let quoted = parts.next()?.strip_prefix('"')?;
    let mut text = String::new();
    let mut escaped = false;
    for c in quoted.chars() {
        match (escaped, c) {
            (true, c) => {
                text.push(c);
                escaped = false;
            }
            (false, '\\') => escaped = true,
            (false, '"') => return Some(text),
            (false, c) => text.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_formatted_and_parsed_back() {
        let cases = [
            ("plain", r#"299 - "plain""#),
            (
                r#"unknown field "spec.foo""#,
                r#"299 - "unknown field \"spec.foo\"""#,
            ),
            ("back\\slash", r#"299 - "back\\slash""#),
            ("Iñtërnâtiô", r#"299 - "Iñtërnâtiô""#),
            ("new\nline", r#"299 - "new\u{a}line""#),
        ];
        for (text, want) in cases {
            assert_eq!(header_value(text), want, "{text}");
            if !text.contains('\n') {
                assert_eq!(parse_header(want).as_deref(), Some(text), "{want}");
            }
        }
        for bad in ["", "299", "299 -", "29 - \"x\"", "299 - x", "299 - \"open"] {
            assert_eq!(parse_header(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_recorder_dedupes_and_bounds_like_kubernetes() {
        let mut r = Recorder::default();
        r.add("a");
        r.add("a");
        r.add("");
        r.add("b");
        assert_eq!(r.texts(), ["a", "b"]);
        // Past the total, every text is cut to ITEM_CHARS, the earlier ones too.
        let long = "x".repeat(TOTAL_CHARS);
        r.add(&long);
        assert_eq!(r.texts().len(), 3);
        assert_eq!(r.texts()[2].chars().count(), ITEM_CHARS);
        // Once the budget is spent again, nothing more is added.
        for i in 0..100 {
            r.add(&format!("{i}{}", "y".repeat(ITEM_CHARS)));
        }
        let total: usize = r.texts().iter().map(|t| t.chars().count()).sum();
        assert!(total <= TOTAL_CHARS + ITEM_CHARS, "{total}");
        assert!(r.texts().len() < 30);
        assert_eq!(r.headers().len(), r.texts().len());
    }
}
