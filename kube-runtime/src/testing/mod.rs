//! Test kit for this project's tests and for programs that embed the library.
//!
//! [`recording::RecordingClient`] wraps any API client, records every call and injects errors
//! per verb and resource (client-go's fake clientset with reactors is the model).

pub mod recording;

pub use recording::{Call, RecordingClient, Times, Verb};
