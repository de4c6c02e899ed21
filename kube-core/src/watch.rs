//! Watch events: the wire types shared by the server, the clients and the informers.
//!
//! On the wire a watch is newline-delimited JSON, one `{"type":"ADDED","object":{…}}` per line;
//! an `ERROR` event carries a `Status` (410 Gone tells the client to relist).

use serde::{Deserialize, Serialize};

/// Type of a watch event.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WatchEventType {
    /// The object appeared (or started to match the selectors).
    Added,
    /// The object changed.
    Modified,
    /// The object was deleted (or stopped matching the selectors).
    Deleted,
}

impl WatchEventType {
    /// The wire name: `ADDED`, `MODIFIED` or `DELETED`.
    pub fn as_str(self) -> &'static str {
        match self {
            WatchEventType::Added => "ADDED",
            WatchEventType::Modified => "MODIFIED",
            WatchEventType::Deleted => "DELETED",
        }
    }

    /// The type named by a wire name; `None` for `ERROR`, `BOOKMARK` and unknown names.
    pub fn from_wire(s: &str) -> Option<WatchEventType> {
        match s {
            "ADDED" => Some(WatchEventType::Added),
            "MODIFIED" => Some(WatchEventType::Modified),
            "DELETED" => Some(WatchEventType::Deleted),
            _ => None,
        }
    }
}

/// One typed watch event, serialized as `{"type":…,"object":…}`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WatchEvent<T> {
    /// What happened.
    #[serde(rename = "type")]
    pub type_: WatchEventType,
    /// The object after the change (for deletes: its last state).
    pub object: T,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wire_form() {
        let cases = [
            (WatchEventType::Added, r#"{"type":"ADDED","object":1}"#),
            (
                WatchEventType::Modified,
                r#"{"type":"MODIFIED","object":1}"#,
            ),
            (WatchEventType::Deleted, r#"{"type":"DELETED","object":1}"#),
        ];
        for (t, wire) in cases {
            let ev = WatchEvent {
                type_: t,
                object: 1,
            };
            assert_eq!(serde_json::to_string(&ev).unwrap(), wire);
            assert_eq!(serde_json::from_str::<WatchEvent<i32>>(wire).unwrap(), ev);
            assert_eq!(WatchEventType::from_wire(t.as_str()), Some(t));
        }
        assert_eq!(WatchEventType::from_wire("ERROR"), None);
        assert!(serde_json::from_str::<WatchEvent<i32>>(r#"{"type":"ERROR","object":1}"#).is_err());
    }
}
