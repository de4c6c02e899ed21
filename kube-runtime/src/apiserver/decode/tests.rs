//! Table tests of the body decoders: YAML limits and scalars, JSON depth, strict typing.

use super::yaml::{to_json, YamlError, ALIAS_ALLOWANCE};
use super::*;
use kube_core::Pod;
use serde_json::json;

fn nested_flow(depth: usize) -> String {
    format!("{{a: {}1{}}}", "[".repeat(depth - 1), "]".repeat(depth - 1))
}

fn nested_block(depth: usize) -> String {
    let mut s = String::new();
    for i in 0..depth {
        s.push_str(&" ".repeat(i));
        s.push_str("a:\n");
    }
    s
}

fn laughs(levels: usize, fan_out: usize) -> String {
    let mut y = String::from("l0: &l0 [lol, lol]\n");
    for level in 1..=levels {
        let refs: Vec<String> = (0..fan_out).map(|_| format!("*l{}", level - 1)).collect();
        y.push_str(&format!("l{level}: &l{level} [{}]\n", refs.join(", ")));
    }
    y
}

#[test]
fn yaml_limits() {
    let big_anchor = format!("a: &a [{}]\nb: [*a, *a, *a]\n", "x, ".repeat(3000));
    let cases: Vec<(&str, String, Result<(), YamlError>)> = vec![
        ("flow at the limit", nested_flow(MAX_DEPTH), Ok(())),
        (
            "flow past the limit",
            nested_flow(MAX_DEPTH + 1),
            Err(YamlError::TooDeep(MAX_DEPTH)),
        ),
        (
            "very deep flow",
            "[".repeat(200_000),
            Err(YamlError::TooDeep(MAX_DEPTH)),
        ),
        ("block at the limit", nested_block(MAX_DEPTH - 1), Ok(())),
        (
            "block past the limit",
            nested_block(MAX_DEPTH + 1),
            Err(YamlError::TooDeep(MAX_DEPTH)),
        ),
        (
            "compact sequences",
            "- ".repeat(100_000) + "x",
            Err(YamlError::TooDeep(MAX_DEPTH)),
        ),
        (
            "a few aliases",
            "a: &a {x: 1}\nb: *a\nc: *a\n".into(),
            Ok(()),
        ),
        (
            "billion laughs",
            laughs(9, 9),
            Err(YamlError::AliasBudget(0)),
        ),
        (
            "one large anchor copied",
            big_anchor,
            Err(YamlError::AliasBudget(0)),
        ),
        (
            "two documents",
            "a: 1\n---\nb: 2\n".into(),
            Err(YamlError::MultipleDocuments),
        ),
        (
            "complex key",
            "? [a]\n: b\n".into(),
            Err(YamlError::ComplexKey),
        ),
        (
            "custom tag",
            "a: !foo x\n".into(),
            Err(YamlError::UnsupportedTag(String::new())),
        ),
        (
            "infinity",
            "a: .inf\n".into(),
            Err(YamlError::InvalidScalar(String::new(), "")),
        ),
        (
            "unknown alias",
            "a: *nope\n".into(),
            Err(YamlError::Syntax {
                line: 0,
                col: 0,
                message: String::new(),
            }),
        ),
    ];
    for (what, text, want) in cases {
        let got = to_json(&text, MAX_DEPTH).map(|_| ());
        let same = match (&got, &want) {
            (Ok(()), Ok(())) => true,
            (Err(g), Err(w)) => std::mem::discriminant(g) == std::mem::discriminant(w),
            _ => false,
        };
        assert!(same, "{what}: got {got:?}, want {want:?}");
    }
}

#[test]
fn alias_budget_is_the_body_length_plus_an_allowance() {
    // An anchored node of 1,000 characters may be copied about (length + allowance) / 1,000 times.
    let item = format!("[{}]", "x,".repeat(499));
    let doc = |copies: usize| format!("a: &a {item}\nb: [{}]\n", vec!["*a"; copies].join(", "));
    let fits = doc(2);
    assert!(to_json(&fits, MAX_DEPTH).is_ok());
    let copies = (1_000 + ALIAS_ALLOWANCE) / item.len() + 10;
    assert!(matches!(
        to_json(&doc(copies), MAX_DEPTH),
        Err(YamlError::AliasBudget(_))
    ));
}

#[test]
fn yaml_scalars_follow_the_core_schema() {
    let got = to_json(
        "a: 1\nb: -2\nc: 0x1f\nd: 0o17\ne: 1.5\nf: 1e3\ng: true\nh: ~\ni: '1'\nj: \"x\"\nk: 12345678901234567890123\nl: !!str 5\nm: text here\nn: |\n  lit\n3: int key\n",
        MAX_DEPTH,
    )
    .expect("decodes");
    assert_eq!(
        got,
        json!({"a": 1, "b": -2, "c": 31, "d": 15, "e": 1.5, "f": 1000.0, "g": true, "h": null,
               "i": "1", "j": "x", "k": 1.2345678901234568e22, "l": "5", "m": "text here",
               "n": "lit\n", "3": "int key"})
    );
    assert_eq!(to_json("", MAX_DEPTH), Ok(Value::Null));
    assert_eq!(
        to_json("a: &x 1\nb: *x\n", MAX_DEPTH),
        Ok(json!({"a": 1, "b": 1}))
    );
}

#[test]
fn json_depth_scan() {
    let cases = [
        ("{}", 1, false),
        ("{\"a\": []}", 1, true),
        ("{\"a\": []}", 2, false),
        ("{\"a\": \"[[[[\"}", 1, false),
        ("{\"a\": \"\\\"[[[[\"}", 1, false),
        ("[[]],[[]]", 2, false),
    ];
    for (text, max, want) in cases {
        assert_eq!(
            json_depth_exceeds(text.as_bytes(), max),
            want,
            "{text} {max}"
        );
    }
}

#[test]
fn documents_within_the_limit_decode_in_both_formats() {
    let deep_json = format!(
        "{{\"a\": {}1{}}}",
        "[".repeat(MAX_DEPTH - 1),
        "]".repeat(MAX_DEPTH - 1)
    );
    assert!(decode_document(deep_json.as_bytes(), false).is_ok());
    let too_deep = format!(
        "{{\"a\": {}1{}}}",
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert!(decode_document(too_deep.as_bytes(), false).is_err());
    assert!(decode_document(nested_flow(MAX_DEPTH).as_bytes(), true).is_ok());
    assert!(decode_document(nested_flow(MAX_DEPTH + 1).as_bytes(), true).is_err());
}

#[test]
fn type_mismatches_name_the_field() {
    let cases: Vec<(&str, Version, Value, &str)> = vec![
        (
            "metadata as array",
            Version::V1,
            json!({"metadata": []}),
            "metadata",
        ),
        (
            "name from an array",
            Version::V1,
            json!({"metadata": ["x"]}),
            "metadata",
        ),
        (
            "status as array",
            Version::V1,
            json!({"status": []}),
            "status",
        ),
        (
            "labels as string",
            Version::V1,
            json!({"metadata": {"labels": "a"}}),
            "metadata.labels",
        ),
        (
            "port out of range",
            Version::V1,
            json!({"spec": {"containers": [{"ports": [{"containerPort": 1e12}]}]}}),
            "spec.containers[0].ports[0].containerPort",
        ),
        (
            "v1beta1 manifest as array",
            Version::V1Beta1,
            json!({"id": "x", "desiredState": {"manifest": []}}),
            "desiredState.manifest",
        ),
        (
            "v1beta1 labels as array",
            Version::V1Beta1,
            json!({"id": "x", "labels": ["a"]}),
            "labels",
        ),
    ];
    for (what, version, body, field) in cases {
        let bytes = serde_json::to_vec(&body).expect("json");
        let err = decode_object::<Pod>(&bytes, false, version, ResourceKind::Pods).expect_err(what);
        let st = err.to_status();
        assert_eq!((st.code, st.reason.as_str()), (400, "BadRequest"), "{what}");
        let causes = st.details.map(|d| d.causes).unwrap_or_default();
        assert_eq!(
            causes.first().map(|c| c.field.as_str()),
            Some(field),
            "{what}: {}",
            st.message
        );
    }
}

#[test]
fn delete_options_bodies() {
    use kube_core::deletion::{Preconditions, PropagationPolicy};
    let pre = |uid: Option<&str>, rv: Option<&str>| Preconditions {
        uid: uid.map(str::to_string),
        resource_version: rv.map(str::to_string),
    };
    // (body, options or the status code of the refusal)
    let cases: Vec<(&str, Result<DeleteOptions, u16>)> = vec![
        ("{}", Ok(DeleteOptions::default())),
        (
            r#"{"kind":"DeleteOptions","apiVersion":"v1","propagationPolicy":"Orphan"}"#,
            Ok(DeleteOptions::propagation(PropagationPolicy::Orphan)),
        ),
        (
            r#"{"orphanDependents":false}"#,
            Ok(DeleteOptions::propagation(PropagationPolicy::Background)),
        ),
        (
            r#"{"preconditions":{"uid":"u1"},"gracePeriodSeconds":3}"#,
            Ok(DeleteOptions {
                grace_period_seconds: Some(3),
                preconditions: Some(pre(Some("u1"), None)),
                ..DeleteOptions::default()
            }),
        ),
        (
            "preconditions:\n  resourceVersion: \"12\"\n",
            Ok(DeleteOptions {
                preconditions: Some(pre(None, Some("12"))),
                ..DeleteOptions::default()
            }),
        ),
        (r#"{"propagationPolicy":"Sideways"}"#, Err(400)),
        (r#"{"propagationPolicy":1}"#, Err(400)),
        (r#"{"orphanDependents":"yes"}"#, Err(400)),
        (r#"{"preconditions":[]}"#, Err(400)),
        (r#"{"preconditions":{"uid":5}}"#, Err(400)),
        (
            r#"{"propagationPolicy":"Orphan","orphanDependents":true}"#,
            Err(422),
        ),
        (r#"{"kind":"Pod"}"#, Err(400)),
    ];
    for (body, want) in cases {
        let got = decode_delete_options(body.as_bytes(), false).map_err(|e| e.to_status().code);
        assert_eq!(got, want, "{body}");
    }
}
