use super::*;
use serde_json::json;

/// RFC 7386 Appendix A, every example, plus the RFC's introductory example.
#[test]
fn merge_patch_rfc7386_examples() {
    let cases = [
        (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
        (json!({"a":"b"}), json!({"a":null}), json!({})),
        (
            json!({"a":"b","b":"c"}),
            json!({"a":null}),
            json!({"b":"c"}),
        ),
        (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
        (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
        (
            json!({"a":{"b":"c"}}),
            json!({"a":{"b":"d","c":null}}),
            json!({"a":{"b":"d"}}),
        ),
        (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
        (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
        (json!({"a":"b"}), json!(["c"]), json!(["c"])),
        (json!({"a":"foo"}), json!(null), json!(null)),
        (json!({"a":"foo"}), json!("bar"), json!("bar")),
        (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
        (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
        (
            json!({}),
            json!({"a":{"bb":{"ccc":null}}}),
            json!({"a":{"bb":{}}}),
        ),
        (
            json!({"title":"Goodbye!","author":{"givenName":"John","familyName":"Doe"},
                   "tags":["example","sample"],"content":"This will be unchanged"}),
            json!({"title":"Hello!","phoneNumber":"+01-123-456-7890",
                   "author":{"familyName":null},"tags":["example"]}),
            json!({"title":"Hello!","author":{"givenName":"John"},"tags":["example"],
                   "content":"This will be unchanged","phoneNumber":"+01-123-456-7890"}),
        ),
    ];
    for (target, patch, want) in cases {
        let mut got = target.clone();
        merge_patch(&mut got, &patch);
        assert_eq!(got, want, "{target} + {patch}");
    }
}

/// RFC 6902 Appendix A examples that succeed (A.1–A.7, A.10, A.14, A.16), plus `-` append and
/// escapes; each is (document, patch, result).
#[test]
fn json_patch_rfc6902_examples() {
    let cases = [
        // A.1 adding an object member
        (
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz","value":"qux"}]),
            json!({"baz":"qux","foo":"bar"}),
        ),
        // A.2 adding an array element
        (
            json!({"foo":["bar","baz"]}),
            json!([{"op":"add","path":"/foo/1","value":"qux"}]),
            json!({"foo":["bar","qux","baz"]}),
        ),
        // A.3 removing an object member
        (
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"remove","path":"/baz"}]),
            json!({"foo":"bar"}),
        ),
        // A.4 removing an array element
        (
            json!({"foo":["bar","qux","baz"]}),
            json!([{"op":"remove","path":"/foo/1"}]),
            json!({"foo":["bar","baz"]}),
        ),
        // A.5 replacing a value
        (
            json!({"baz":"qux","foo":"bar"}),
            json!([{"op":"replace","path":"/baz","value":"boo"}]),
            json!({"baz":"boo","foo":"bar"}),
        ),
        // A.6 moving a value
        (
            json!({"foo":{"bar":"baz","waldo":"fred"},"qux":{"corge":"grault"}}),
            json!([{"op":"move","from":"/foo/waldo","path":"/qux/thud"}]),
            json!({"foo":{"bar":"baz"},"qux":{"corge":"grault","thud":"fred"}}),
        ),
        // A.7 moving an array element
        (
            json!({"foo":["all","grass","cows","eat"]}),
            json!([{"op":"move","from":"/foo/1","path":"/foo/3"}]),
            json!({"foo":["all","cows","eat","grass"]}),
        ),
        // A.8 testing a value: success
        (
            json!({"baz":"qux","foo":["a",2,"c"]}),
            json!([{"op":"test","path":"/baz","value":"qux"},{"op":"test","path":"/foo/1","value":2}]),
            json!({"baz":"qux","foo":["a",2,"c"]}),
        ),
        // A.10 adding a nested member object
        (
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/child","value":{"grandchild":{}}}]),
            json!({"foo":"bar","child":{"grandchild":{}}}),
        ),
        // A.11 ignoring unrecognized elements
        (
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz","value":"qux","xyz":123}]),
            json!({"foo":"bar","baz":"qux"}),
        ),
        // A.14 ~ escape ordering
        (
            json!({"/":9,"~1":10}),
            json!([{"op":"test","path":"/~01","value":10}]),
            json!({"/":9,"~1":10}),
        ),
        // A.16 adding an array value
        (
            json!({"foo":["bar"]}),
            json!([{"op":"add","path":"/foo/-","value":["abc","def"]}]),
            json!({"foo":["bar",["abc","def"]]}),
        ),
        // `~1` is `/`; copy; add at the end index; replace the whole document
        (
            json!({"a/b":1,"l":[1]}),
            json!([{"op":"copy","from":"/a~1b","path":"/c"},{"op":"add","path":"/l/1","value":2}]),
            json!({"a/b":1,"c":1,"l":[1,2]}),
        ),
        (
            json!({"a":1}),
            json!([{"op":"replace","path":"","value":{"b":2}}]),
            json!({"b":2}),
        ),
        // RFC 6901 §5: the empty member name
        (
            json!({"":0}),
            json!([{"op":"replace","path":"/","value":1}]),
            json!({"":1}),
        ),
    ];
    for (doc, patch, want) in cases {
        let mut got = doc.clone();
        json_patch(&mut got, &patch).unwrap_or_else(|e| panic!("{patch}: {e}"));
        assert_eq!(got, want, "{doc} + {patch}");
    }
}

/// Failures: malformed documents (400) vs. patches that do not apply (422, RFC 6902 A.9,
/// A.12, A.13, A.15 and missing paths); the target is left unchanged in every case.
#[test]
fn json_patch_failures_leave_the_target_unchanged() {
    let malformed = PatchError::Malformed(String::new());
    let not_applicable = PatchError::NotApplicable(String::new());
    let cases = [
        // A.9 testing a value: error
        (
            json!({"baz":"qux"}),
            json!([{"op":"test","path":"/baz","value":"bar"}]),
            &not_applicable,
        ),
        // A.12 adding to a nonexistent target
        (
            json!({"foo":"bar"}),
            json!([{"op":"add","path":"/baz/bat","value":"qux"}]),
            &not_applicable,
        ),
        // A.13 invalid JSON Patch document (here: op missing)
        (
            json!({"foo":"bar"}),
            json!([{"path":"/baz","value":"qux"}]),
            &malformed,
        ),
        // A.15 comparing strings and numbers
        (
            json!({"/":9,"~1":10}),
            json!([{"op":"test","path":"/~01","value":"10"}]),
            &not_applicable,
        ),
        // a later op fails: the earlier one is undone
        (
            json!({"a":1}),
            json!([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/zzz"}]),
            &not_applicable,
        ),
        (
            json!({"a":1}),
            json!([{"op":"replace","path":"/zzz","value":2}]),
            &not_applicable,
        ),
        (
            json!({"l":[1]}),
            json!([{"op":"remove","path":"/l/1"}]),
            &not_applicable,
        ),
        (
            json!({"l":[1]}),
            json!([{"op":"remove","path":"/l/01"}]),
            &not_applicable,
        ),
        (
            json!({"l":[1]}),
            json!([{"op":"add","path":"/l/3","value":1}]),
            &not_applicable,
        ),
        (
            json!({"a":{"b":1}}),
            json!([{"op":"move","from":"/a","path":"/a/b/c"}]),
            &not_applicable,
        ),
        (
            json!({"a":1}),
            json!({"op":"add","path":"/b","value":2}),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"frobnicate","path":"/a"}]),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"add","path":"b","value":2}]),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"add","path":"/b~2","value":2}]),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"add","path":"/b"}]),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"copy","path":"/b"}]),
            &malformed,
        ),
        (
            json!({"a":1}),
            json!([{"op":"remove","path":7}]),
            &malformed,
        ),
        (json!({"a":1}), json!([5]), &malformed),
    ];
    for (doc, patch, want) in cases {
        let mut got = doc.clone();
        let err = json_patch(&mut got, &patch).expect_err(&patch.to_string());
        assert_eq!(
            std::mem::discriminant(&err),
            std::mem::discriminant(want),
            "{patch}: {err}"
        );
        assert_eq!(got, doc, "{patch} changed the target");
    }
}

#[test]
fn pointers_unescape() {
    let cases: [(&str, &[&str]); 5] = [
        ("", &[]),
        ("/", &[""]),
        ("/a~1b/c~0d", &["a/b", "c~d"]),
        ("/~01", &["~1"]),
        (
            "/metadata/labels/app.kubernetes.io~1name",
            &["metadata", "labels", "app.kubernetes.io/name"],
        ),
    ];
    for (p, want) in cases {
        assert_eq!(
            parse_pointer(p),
            Ok(want.iter().map(|s| s.to_string()).collect()),
            "{p}"
        );
    }
    assert!(parse_pointer("a").is_err());
    assert!(parse_pointer("/~").is_err());
}
