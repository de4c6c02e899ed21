//! Table tests of field validation: what each mode makes of what was found, the members a
//! patch repeats, YAML's repeated keys, and [`strict_fields`] for bodies parsed elsewhere.

use super::yaml::to_json_checked;
use super::*;
use kube_core::decode::StrictError;
use kube_core::Pod;
use serde_json::json;

fn found(errors: &[StrictError]) -> StrictErrors {
    let mut f = StrictErrors::default();
    for e in errors {
        f.push(e.clone());
    }
    f
}

fn texts(f: &StrictErrors) -> Vec<String> {
    f.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn each_mode_answers_warnings_or_a_refusal() {
    let some = found(&[
        StrictError::unknown("spec.foo"),
        StrictError::duplicate("metadata.name"),
    ]);
    let body = Checked::Body {
        kind: "Pod",
        version: "v1",
    };
    let patch = Checked::Patch {
        kind: "Pod",
        name: "p",
    };
    let both =
        r#"strict decoding error: unknown field "spec.foo", duplicate field "metadata.name""#;
    // (mode, found, on, Ok(warnings) or Err((code, message, cause reasons)))
    type Want = Result<Vec<&'static str>, (u16, String, Vec<&'static str>)>;
    let cases: Vec<(FieldValidation, &StrictErrors, Checked<'_>, Want)> = vec![
        (FieldValidation::Ignore, &some, body, Ok(vec![])),
        (
            FieldValidation::Warn,
            &some,
            body,
            Ok(vec![
                r#"unknown field "spec.foo""#,
                r#"duplicate field "metadata.name""#,
            ]),
        ),
        (
            FieldValidation::Strict,
            &some,
            body,
            Err((
                400,
                format!(r#"Pod in version "v1" cannot be handled as a Pod: {both}"#),
                vec!["FieldValueInvalid", "FieldValueDuplicate"],
            )),
        ),
        (
            FieldValidation::Strict,
            &some,
            patch,
            Err((
                422,
                format!(r#"Pod "p" is invalid: patch: Invalid value: {both}"#),
                vec!["FieldValueInvalid", "FieldValueDuplicate"],
            )),
        ),
    ];
    let none = StrictErrors::default();
    for mode in [
        FieldValidation::Strict,
        FieldValidation::Warn,
        FieldValidation::Ignore,
    ] {
        assert_eq!(
            check_fields(mode, &none, body).ok(),
            Some(vec![]),
            "{mode:?}"
        );
    }
    for (mode, f, on, want) in cases {
        let got = check_fields(mode, f, on).map_err(|e| {
            let st = e.to_status();
            let reasons = st
                .details
                .map(|d| d.causes.into_iter().map(|c| c.reason).collect::<Vec<_>>())
                .unwrap_or_default();
            (st.code, st.message, reasons)
        });
        match (got, want) {
            (Ok(w), Ok(want)) => assert_eq!(w, want, "{mode:?}"),
            (Err((code, msg, reasons)), Err((wcode, wmsg, wreasons))) => {
                assert_eq!((code, msg), (wcode, wmsg), "{mode:?}");
                assert_eq!(reasons, wreasons, "{mode:?}");
            }
            (got, want) => panic!("{mode:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn patch_bodies_report_repeats_and_unknown_operation_members() {
    let cases: [(&str, bool, FieldValidation, Vec<&str>); 6] = [
        (r#"{"a": 1}"#, false, FieldValidation::Strict, vec![]),
        (
            r#"{"spec": {"x": 1, "x": 2}}"#,
            false,
            FieldValidation::Warn,
            vec![r#"duplicate field "spec.x""#],
        ),
        (
            r#"{"spec": {"x": 1, "x": 2}}"#,
            false,
            FieldValidation::Ignore,
            vec![],
        ),
        (
            r#"[{"op": "add", "path": "/a", "value": 1, "from": "/b"}]"#,
            true,
            FieldValidation::Strict,
            vec![],
        ),
        (
            r#"[{"op": "add", "path": "/a"}, {"op": "remove", "op": "add", "pth": "/b"}]"#,
            true,
            FieldValidation::Strict,
            vec![
                r#"json patch duplicate field "[1].op""#,
                r#"json patch unknown field "[1].pth""#,
            ],
        ),
        // Unparsable bodies are refused by the patch parser, not here.
        ("{", false, FieldValidation::Strict, vec![]),
    ];
    for (body, json_patch, mode, want) in cases {
        let got = patch_duplicates(body.as_bytes(), json_patch, mode);
        assert_eq!(texts(&got), want, "{body} {mode:?}");
    }
}

#[test]
fn yaml_reports_repeated_keys_with_their_paths() {
    let cases: [(&str, Vec<&str>); 4] = [
        ("a: 1\nb: 2\n", vec![]),
        ("a: 1\na: 2\n", vec!["a"]),
        (
            "spec:\n  containers:\n  - name: c\n  - name: d\n    image: x\n    image: y\n",
            vec!["spec.containers[1].image"],
        ),
        (
            "m: {k: 1, k: 2}\nl: [{x: 1, x: 2}]\n",
            vec!["m.k", "l[0].x"],
        ),
    ];
    for (text, want) in cases {
        let (_, dups) = to_json_checked(text, MAX_DEPTH).expect(text);
        let fields: Vec<&str> = dups.errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, want, "{text}");
        assert!(dups.errors.iter().all(|e| e.kind == StrictKind::Duplicate));
    }
}

#[test]
fn strict_fields_lists_repeats_then_unknown_members() {
    let doc = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
        "spec": {"foo": 1, "containers": [{"name": "c", "imagee": "x"}]}});
    let repeated = found(&[StrictError::duplicate("metadata.name")]);
    let cases = [
        (
            FieldValidation::Strict,
            vec![
                r#"duplicate field "metadata.name""#,
                r#"unknown field "spec.foo""#,
                r#"unknown field "spec.containers[0].imagee""#,
            ],
        ),
        (
            FieldValidation::Warn,
            vec![
                r#"duplicate field "metadata.name""#,
                r#"unknown field "spec.foo""#,
                r#"unknown field "spec.containers[0].imagee""#,
            ],
        ),
        (FieldValidation::Ignore, vec![]),
    ];
    for (mode, want) in cases {
        let mut got = texts(&strict_fields::<Pod>(
            &doc,
            Version::V1,
            mode,
            repeated.clone(),
        ));
        if let Some(first) = got.first() {
            assert!(
                first.starts_with("duplicate"),
                "{mode:?}: repeats first: {got:?}"
            );
        }
        got.sort();
        let mut want: Vec<String> = want.into_iter().map(String::from).collect();
        want.sort();
        assert_eq!(got, want, "{mode:?}");
    }
    // A v1beta1 document is checked against the v1beta1 form.
    let old = json!({"id": "p", "metadata": {}, "desiredState": {"manifest": {"containers": []}}});
    let got = strict_fields::<Pod>(
        &old,
        Version::V1Beta1,
        FieldValidation::Strict,
        StrictErrors::default(),
    );
    assert_eq!(texts(&got), [r#"unknown field "metadata""#]);
}
