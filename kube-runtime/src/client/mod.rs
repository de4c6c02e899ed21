//! API clients. [`HttpClient`] speaks to an API server over HTTP/1.1.

mod http;

pub use self::http::{ClientError, HttpClient};
