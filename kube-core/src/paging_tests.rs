use super::*;

/// A token Kubernetes handed out (kube-system's coredns pod, revision 12454).
const KUBERNETES_TOKEN: &str = "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MTI0NTQsInN0YXJ0Ijoia3ViZS1zeXN0ZW0vY29yZWRucy03YzZkNjc4NWQ1LTRsc3F6XHUwMDAwIn0";

#[test]
fn tokens_encode_as_kubernetes_does() {
    let cases = [
        (
            ContinueToken {
                revision: Some(12454),
                start: "kube-system/coredns-7c6d6785d5-4lsqz\0".into(),
            },
            KUBERNETES_TOKEN,
        ),
        (
            ContinueToken {
                revision: None,
                start: "default/p1\0".into(),
            },
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTEsInN0YXJ0IjoiZGVmYXVsdC9wMVx1MDAwMCJ9",
        ),
    ];
    for (token, want) in cases {
        assert_eq!(token.encode(), want, "{token:?}");
        assert_eq!(ContinueToken::decode(want), Ok(token));
    }
}

#[test]
fn tokens_decode_or_are_refused_as_kubernetes_does() {
    use ContinueError::*;
    let cases: [(&str, Result<ContinueToken, ContinueError>); 13] = [
        (
            // `"/ns/p\0"`, rooted, is accepted without its leading slash.
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6Nywic3RhcnQiOiIvbnMvcFx1MDAwMCJ9",
            Ok(ContinueToken {
                revision: Some(7),
                start: "ns/p\0".into(),
            }),
        ),
        (
            // Any negative revision: the current one.
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6LTUsInN0YXJ0IjoiYiJ9",
            Ok(ContinueToken {
                revision: None,
                start: "b".into(),
            }),
        ),
        ("bm90IGpzb24", Err(Invalid(String::new()))),
        ("!!!", Err(Invalid(String::new()))),
        ("eyJ2Ijo=", Err(Invalid(String::new()))),
        ("a", Err(Invalid(String::new()))),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjIiLCJydiI6NSwic3RhcnQiOiJhXHUwMDAwIn0",
            Err(UnknownVersion("meta.k8s.io/v2".into())),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6MCwic3RhcnQiOiJhXHUwMDAwIn0",
            Err(InvalidStartRevision),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJzdGFydCI6ImFcdTAwMDAifQ",
            Err(InvalidStartRevision),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIifQ",
            Err(EmptyStartKey),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiIuLi9zZWNyZXRzL3gifQ",
            Err(Invalid("../secrets/x".into())),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiJucy8uLi8uLi94In0",
            Err(Invalid("ns/../../x".into())),
        ),
        (
            "eyJ2IjoibWV0YS5rOHMuaW8vdjEiLCJydiI6NSwic3RhcnQiOiJucy8veCJ9",
            Err(Invalid("ns//x".into())),
        ),
    ];
    for (token, want) in cases {
        let got = ContinueToken::decode(token);
        match (&got, &want) {
            // Parser messages are not compared.
            (Err(Invalid(_)), Err(Invalid(w))) if w.is_empty() => {}
            _ => assert_eq!(got, want, "{token}"),
        }
    }
}

#[test]
fn a_token_continues_after_the_last_key_under_the_prefix() {
    let t = ContinueToken::after("/registry/pods/ns/web-1", "/registry/pods/", Some(9));
    assert_eq!(
        t,
        Some(ContinueToken {
            revision: Some(9),
            start: "ns/web-1\0".into()
        })
    );
    let t = t.expect("token");
    assert_eq!(t.start_key("/registry/pods/"), "/registry/pods/ns/web-1\0");
    assert_eq!(ContinueToken::decode(&t.encode()), Ok(t));
    assert_eq!(
        ContinueToken::after("/other/x", "/registry/pods/", Some(9)),
        None
    );
    assert_eq!(
        ContinueToken::after("/registry/pods/", "/registry/pods/", Some(9)),
        None
    );
}

#[test]
fn base64url_round_trips_every_length() {
    for len in 0..40u8 {
        let bytes: Vec<u8> = (0..len).map(|i| i.wrapping_mul(97) ^ 0xa5).collect();
        let text = base64url_encode(&bytes);
        assert!(!text.contains(['=', '+', '/']), "{text}");
        assert_eq!(base64url_decode(&text), Ok(bytes), "{len}");
    }
}

fn params(
    rv: Option<Revision>,
    rvm: Option<ResourceVersionMatch>,
    limit: u64,
    cont: &str,
) -> PagingParams {
    PagingParams {
        resource_version: rv,
        resource_version_match: rvm,
        limit,
        continue_token: cont.into(),
    }
}

#[test]
fn list_parameters_resolve_as_kubernetes_does() {
    use ResourceVersionMatch::*;
    const P: &str = "/registry/pods/";
    let token = ContinueToken {
        revision: Some(40),
        start: "ns/a\0".into(),
    }
    .encode();
    let inconsistent = ContinueToken {
        revision: None,
        start: "ns/a\0".into(),
    }
    .encode();
    let plan = |at, start: Option<&str>, limit, continuing| PagePlan {
        at,
        start: start.map(str::to_owned),
        limit,
        continuing,
    };
    let a = Some("/registry/pods/ns/a\0");
    /// (params, plan or (code, reason, cause field))
    type Want = Result<PagePlan, (u16, &'static str, &'static str)>;
    let cases: Vec<(PagingParams, Want)> = vec![
        (
            params(None, None, 0, ""),
            Ok(plan(ReadAt::Current, None, 0, false)),
        ),
        (
            params(Some(0), None, 500, ""),
            Ok(plan(ReadAt::Current, None, 500, false)),
        ),
        (
            params(Some(7), None, 0, ""),
            Ok(plan(ReadAt::NotOlderThan(7), None, 0, false)),
        ),
        // Legacy: a resourceVersion with a limit reads exactly there.
        (
            params(Some(7), None, 10, ""),
            Ok(plan(ReadAt::Exact(7), None, 10, false)),
        ),
        (
            params(Some(7), Some(NotOlderThan), 10, ""),
            Ok(plan(ReadAt::NotOlderThan(7), None, 10, false)),
        ),
        (
            params(Some(0), Some(NotOlderThan), 0, ""),
            Ok(plan(ReadAt::Current, None, 0, false)),
        ),
        (
            params(Some(7), Some(Exact), 0, ""),
            Ok(plan(ReadAt::Exact(7), None, 0, false)),
        ),
        (
            params(None, None, 5, &token),
            Ok(plan(ReadAt::Exact(40), a, 5, true)),
        ),
        (
            params(Some(0), None, 5, &token),
            Ok(plan(ReadAt::Exact(40), a, 5, true)),
        ),
        (
            params(None, None, 5, &inconsistent),
            Ok(plan(ReadAt::Current, a, 5, true)),
        ),
        // ValidateListOptions: 422 ListOptions.
        (
            params(None, Some(Exact), 0, ""),
            Err((422, "Invalid", "resourceVersionMatch")),
        ),
        (
            params(None, Some(NotOlderThan), 0, ""),
            Err((422, "Invalid", "resourceVersionMatch")),
        ),
        (
            params(Some(5), Some(Exact), 5, &token),
            Err((422, "Invalid", "resourceVersionMatch")),
        ),
        (
            params(Some(0), Some(Exact), 0, ""),
            Err((422, "Invalid", "resourceVersionMatch")),
        ),
        (
            params(Some(7), Some(Unsupported("Newest".into())), 0, ""),
            Err((422, "Invalid", "resourceVersionMatch")),
        ),
        // The storage layer: 400.
        (
            params(Some(5), None, 5, &token),
            Err((400, "BadRequest", "")),
        ),
        (
            params(None, None, 5, "garbage!"),
            Err((400, "BadRequest", "")),
        ),
        (
            params(None, None, 5, "bm90IGpzb24"),
            Err((400, "BadRequest", "")),
        ),
    ];
    for (p, want) in cases {
        let got = p.plan(P).map_err(|e| {
            let st = e.to_status();
            let field = st
                .details
                .and_then(|d| d.causes.first().map(|c| c.field.clone()))
                .unwrap_or_default();
            (st.code, st.reason, field)
        });
        match (&got, &want) {
            (Ok(g), Ok(w)) => assert_eq!(g, w, "{p:?}"),
            (Err((c, r, f)), Err((wc, wr, wf))) => {
                assert_eq!((*c, r.as_str(), f.as_str()), (*wc, *wr, *wf), "{p:?}")
            }
            _ => panic!("{p:?}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn refusals_carry_kubernetes_messages() {
    let e = params(None, Some(ResourceVersionMatch::Exact), 0, "")
        .plan("/p/")
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        "ListOptions \"\" is invalid: resourceVersionMatch: Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided"
    );
    let e = params(Some(7), ResourceVersionMatch::parse("Newest"), 0, "")
        .plan("/p/")
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        "ListOptions \"\" is invalid: resourceVersionMatch: Unsupported value: \"Newest\": supported values: \"Exact\", \"NotOlderThan\", \"\""
    );
    assert_eq!(ResourceVersionMatch::parse(""), None);
    let e = params(None, None, 1, "bm90IGpzb24")
        .plan("/p/")
        .expect_err("refused");
    assert!(
        e.to_string()
            .starts_with("invalid continue token: continue key is not valid"),
        "{e}"
    );
    let e = params(Some(3), None, 1, KUBERNETES_TOKEN)
        .plan("/p/")
        .expect_err("refused");
    assert_eq!(
        e.to_string(),
        "specifying resource version is not allowed when using continue"
    );
    let not_older = Some(&ResourceVersionMatch::NotOlderThan);
    let exact = Some(&ResourceVersionMatch::Exact);
    // (resourceVersionMatch, sendInitialEvents, allowWatchBookmarks, accepted)
    let cases = [
        (None, None, false, true),
        (None, None, true, true),
        (not_older, None, true, false),
        (exact, None, true, false),
        (not_older, Some(true), true, true),
        (not_older, Some(false), true, true),
        (not_older, Some(true), false, false),
        (None, Some(true), true, false),
        (exact, Some(true), true, false),
    ];
    for (rvm, sie, bookmarks, accepted) in cases {
        let r = check_watch(rvm, sie, bookmarks);
        assert_eq!(r.is_ok(), accepted, "{rvm:?} {sie:?} {bookmarks}: {r:?}");
        if let Err(e) = r {
            assert_eq!(e.code(), 422);
        }
    }
}

#[test]
fn expiry_and_too_large_statuses_are_kubernetes_shaped() {
    let e = expired_continue("/registry/pods/ns/b\0", "/registry/pods/");
    let st = e.to_status();
    assert_eq!((st.code, st.reason.as_str()), (410, "Expired"));
    assert_eq!(st.message, INCONSISTENT_CONTINUE_MESSAGE);
    assert!(e.is_gone());
    assert_eq!(
        ContinueToken::decode(&st.metadata.continue_),
        Ok(ContinueToken {
            revision: None,
            start: "ns/b\0".into()
        })
    );
    let st = expired().to_status();
    assert_eq!((st.code, st.reason.as_str()), (410, "Expired"));
    assert_eq!(st.message, EXPIRED_MESSAGE);
    let st = too_large_resource_version(50, 10).to_status();
    assert_eq!((st.code, st.reason.as_str()), (504, "Timeout"));
    assert_eq!(
        st.message,
        "Timeout: Too large resource version: 50, current: 10"
    );
    let d = st.details.expect("details");
    assert_eq!(d.causes[0].reason, CAUSE_RESOURCE_VERSION_TOO_LARGE);
    assert_eq!(d.retry_after_seconds, Some(1));
}
