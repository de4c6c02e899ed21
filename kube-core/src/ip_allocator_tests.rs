use super::*;

fn ip(s: &str) -> Ipv4Addr {
    s.parse().unwrap()
}

fn cidr(s: &str) -> Ipv4Cidr {
    s.parse().unwrap()
}

#[test]
fn cidrs_parse_or_are_refused() {
    // (text, Ok((network, prefix, first, broadcast, size)) or the error's variant name)
    type Want = Result<(&'static str, u8, &'static str, u32), &'static str>;
    let cases: &[(&str, Want)] = &[
        ("10.0.0.0/24", Ok(("10.0.0.0", 24, "10.0.0.255", 254))),
        (
            "172.0.0.0/16",
            Ok(("172.0.0.0", 16, "172.0.255.255", 65534)),
        ),
        ("10.0.0.7/24", Ok(("10.0.0.0", 24, "10.0.0.255", 254))),
        ("192.168.1.8/29", Ok(("192.168.1.8", 29, "192.168.1.15", 6))),
        ("10.0.0.0/30", Ok(("10.0.0.0", 30, "10.0.0.3", 2))),
        (
            "10.0.0.0/12",
            Ok(("10.0.0.0", 12, "10.15.255.255", (1 << 20) - 2)),
        ),
        ("10.0.0.0/31", Err("TooSmall")),
        ("10.0.0.1/32", Err("TooSmall")),
        ("10.0.0.0/11", Err("TooLarge")),
        ("0.0.0.0/0", Err("TooLarge")),
        ("fd00::/120", Err("Ipv6")),
        ("::1/128", Err("Ipv6")),
        ("10.0.0.0/33", Err("Syntax")),
        ("10.0.0.0/", Err("Syntax")),
        ("10.0.0.0/+4", Err("Syntax")),
        ("10.0.0.0/024", Err("Syntax")),
        ("10.0.0.0", Err("Syntax")),
        ("10.0.0/24", Err("Syntax")),
        ("10.0.0.256/24", Err("Syntax")),
        ("\"10.0.0.0/24\"", Err("Syntax")),
        ("", Err("Syntax")),
        (" 10.0.0.0/24", Err("Syntax")),
    ];
    for (text, want) in cases {
        let got = text.parse::<Ipv4Cidr>();
        match (want, &got) {
            (Ok((net, prefix, bcast, size)), Ok(c)) => {
                assert_eq!(c.network(), ip(net), "{text}");
                assert_eq!(c.prefix_len(), *prefix, "{text}");
                assert_eq!(c.broadcast(), ip(bcast), "{text}");
                assert_eq!(c.size(), *size, "{text}");
                assert_eq!(c.to_string(), format!("{net}/{prefix}"), "{text}");
            }
            (Err(variant), Err(e)) => {
                assert!(format!("{e:?}").starts_with(variant), "{text}: {e:?}");
                assert!(e.to_string().contains(&format!("{text:?}")), "{text}: {e}");
            }
            _ => panic!("{text}: want {want:?}, got {got:?}"),
        }
    }
}

#[test]
fn contains_covers_network_and_broadcast() {
    let c = cidr("10.0.0.8/29");
    let cases = [
        ("10.0.0.7", false),
        ("10.0.0.8", true),
        ("10.0.0.12", true),
        ("10.0.0.15", true),
        ("10.0.0.16", false),
        ("11.0.0.8", false),
    ];
    for (addr, want) in cases {
        assert_eq!(c.contains(ip(addr)), want, "{addr}");
    }
}

#[test]
fn specific_allocations() {
    // Each case starts from a /29 (10.0.0.1 ..= 10.0.0.6) with 10.0.0.3 taken.
    let range = cidr("10.0.0.0/29");
    let not_in_range = Err(AllocationError::NotInRange { range });
    let cases = [
        ("10.0.0.1", Ok(())),
        ("10.0.0.6", Ok(())),
        ("10.0.0.3", Err(AllocationError::Allocated)),
        ("10.0.0.0", not_in_range.clone()),
        ("10.0.0.7", not_in_range.clone()),
        ("10.0.0.8", not_in_range.clone()),
        ("192.168.0.1", not_in_range.clone()),
    ];
    for (addr, want) in cases {
        let mut map = AllocationMap::new(range);
        map.allocate(ip("10.0.0.3")).unwrap();
        assert_eq!(map.allocate(ip(addr)), want, "{addr}");
        assert_eq!(
            map.has(ip(addr)),
            addr == "10.0.0.3" || want.is_ok(),
            "{addr}"
        );
        assert_eq!(map.used(), if want.is_ok() { 2 } else { 1 }, "{addr}");
    }
}

#[test]
fn next_allocation_scans_after_the_last_and_wraps() {
    /// (taken, last, want)
    type Case = (
        &'static [&'static str],
        Option<&'static str>,
        Result<&'static str, AllocationError>,
    );
    let cases: &[Case] = &[
        (&[], None, Ok("10.0.0.1")),
        (&["10.0.0.1", "10.0.0.2"], None, Ok("10.0.0.3")),
        (&["10.0.0.1"], Some("10.0.0.1"), Ok("10.0.0.2")),
        // A freed address behind the cursor waits until the end of the range.
        (&["10.0.0.2", "10.0.0.3"], Some("10.0.0.3"), Ok("10.0.0.4")),
        (&["10.0.0.4", "10.0.0.5"], Some("10.0.0.6"), Ok("10.0.0.1")),
        (&["10.0.0.1", "10.0.0.6"], Some("10.0.0.5"), Ok("10.0.0.2")),
        (&["10.0.0.1"], Some("192.168.0.1"), Ok("10.0.0.2")),
        (&["10.0.0.1"], Some("10.0.0.7"), Ok("10.0.0.2")),
        (
            &[
                "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4", "10.0.0.5", "10.0.0.6",
            ],
            Some("10.0.0.2"),
            Err(AllocationError::Full),
        ),
        (
            &["10.0.0.1", "10.0.0.2", "10.0.0.4", "10.0.0.5", "10.0.0.6"],
            Some("10.0.0.4"),
            Ok("10.0.0.3"),
        ),
    ];
    for (taken, last, want) in cases {
        let mut map = AllocationMap::new(cidr("10.0.0.0/29"));
        for t in *taken {
            map.allocate(ip(t)).unwrap();
        }
        let got = map.allocate_next(last.map(ip));
        assert_eq!(got, want.clone().map(ip), "{taken:?} after {last:?}");
        if let Ok(a) = got {
            assert!(map.has(a));
            assert_eq!(map.used() as usize, taken.len() + 1);
        }
    }
}

#[test]
fn every_address_is_handed_out_once_then_full() {
    for range in ["10.0.0.0/30", "10.0.0.0/29", "10.1.0.0/22"] {
        let range = cidr(range);
        let mut map = AllocationMap::new(range);
        let mut last = None;
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..range.size() {
            let a = map.allocate_next(last).unwrap();
            assert!(range.contains(a) && a != range.network() && a != range.broadcast());
            assert!(seen.insert(a), "{a} twice");
            last = Some(a);
        }
        assert_eq!(map.free(), 0);
        assert_eq!(map.allocate_next(last), Err(AllocationError::Full));
        assert_eq!(map.allocated().count() as u32, range.size());
    }
}

#[test]
fn release_frees_only_what_was_allocated() {
    let cases = [
        ("10.0.0.2", true, 1),
        ("10.0.0.3", false, 2),
        ("10.0.0.0", false, 2),
        ("192.168.0.2", false, 2),
    ];
    for (addr, want, used) in cases {
        let mut map = AllocationMap::new(cidr("10.0.0.0/29"));
        map.allocate(ip("10.0.0.2")).unwrap();
        map.allocate(ip("10.0.0.5")).unwrap();
        assert_eq!(map.release(ip(addr)), want, "{addr}");
        assert_eq!(map.used(), used, "{addr}");
        assert!(!map.has(ip(addr)), "{addr}");
    }
    // A released address can be allocated again.
    let mut map = AllocationMap::new(cidr("10.0.0.0/30"));
    map.allocate(ip("10.0.0.1")).unwrap();
    map.release(ip("10.0.0.1"));
    assert_eq!(map.allocate(ip("10.0.0.1")), Ok(()));
}

#[test]
fn stored_form_round_trips_in_kubernetes_encoding() {
    // (range, allocated, data): Kubernetes' big-endian bitmap, offset 0 = network + 1.
    let cases: &[(&str, &[&str], &str)] = &[
        ("10.0.0.0/24", &[], ""),
        ("10.0.0.0/24", &["10.0.0.1"], "AQ=="),
        ("10.0.0.0/24", &["10.0.0.1", "10.0.0.2"], "Aw=="),
        ("10.0.0.0/24", &["10.0.0.9"], "AQA="),
        ("10.0.0.0/24", &["10.0.0.9", "10.0.0.8"], "AYA="),
        ("10.0.0.0/24", &["10.0.0.17"], "AQAA"),
        (
            "10.0.0.0/24",
            &["10.0.0.254"],
            "IAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
        (
            "172.0.0.0/16",
            &["172.0.1.0"],
            "gAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        ),
    ];
    for (range, allocated, data) in cases {
        let mut map = AllocationMap::new(cidr(range));
        for a in *allocated {
            map.allocate(ip(a)).unwrap();
        }
        let stored = map.to_range_allocation();
        assert_eq!(
            (
                stored.kind.as_str(),
                stored.range.as_str(),
                stored.data.as_str()
            ),
            (RANGE_ALLOCATION_KIND, *range, *data),
            "{allocated:?}"
        );
        assert_eq!(AllocationMap::from_range_allocation(&stored), Ok(map));
    }
}

#[test]
fn corrupt_stored_forms_are_refused() {
    let cases = [
        ("10.0.0.0/33", "", "stored range"),
        ("10.0.0.0/24", "AQ=", "multiple of 4"),
        ("10.0.0.0/24", "A?==", "invalid character"),
        ("10.0.0.0/24", "A===", "padding"),
        ("10.0.0.0/24", "AQ==AQ==", "padding"),
        // A /30 has offsets 0 and 1; bit 2 is beyond it.
        ("10.0.0.0/30", "BA==", "offset 2"),
    ];
    for (range, data, want) in cases {
        let stored = RangeAllocation {
            range: range.into(),
            data: data.into(),
            ..RangeAllocation::default()
        };
        let err = AllocationMap::from_range_allocation(&stored).unwrap_err();
        assert!(err.to_string().contains(want), "{range} {data}: {err}");
    }
}

#[test]
fn base64_matches_the_standard_alphabet() {
    let cases: &[(&[u8], &str)] = &[
        (b"", ""),
        (b"f", "Zg=="),
        (b"fo", "Zm8="),
        (b"foo", "Zm9v"),
        (b"foob", "Zm9vYg=="),
        (&[0xff, 0xfe, 0x3e], "//4+"),
    ];
    for (bytes, text) in cases {
        assert_eq!(base64_encode(bytes), *text);
        assert_eq!(base64_decode(text).as_deref(), Ok(*bytes));
    }
}

#[test]
fn resizing_keeps_what_still_fits() {
    /// (old range, allocated, new range, kept, dropped)
    type Case = (
        &'static str,
        &'static [&'static str],
        &'static str,
        &'static [&'static str],
        &'static [&'static str],
    );
    let cases: &[Case] = &[
        (
            "10.0.0.0/24",
            &["10.0.0.1", "10.0.0.7", "10.0.0.200"],
            "10.0.0.0/29",
            &["10.0.0.1"],
            // .7 is the /29's broadcast address.
            &["10.0.0.7", "10.0.0.200"],
        ),
        (
            "10.0.0.0/29",
            &["10.0.0.1", "10.0.0.6"],
            "10.0.0.0/16",
            &["10.0.0.1", "10.0.0.6"],
            &[],
        ),
        (
            "10.0.0.0/24",
            &["10.0.0.1"],
            "172.0.0.0/16",
            &[],
            &["10.0.0.1"],
        ),
    ];
    for (old, allocated, new, kept, dropped) in cases {
        let mut map = AllocationMap::new(cidr(old));
        for a in *allocated {
            map.allocate(ip(a)).unwrap();
        }
        let (resized, lost) = map.resized(cidr(new));
        assert_eq!(resized.range(), cidr(new));
        let got: Vec<Ipv4Addr> = resized.allocated().collect();
        let want: Vec<Ipv4Addr> = kept.iter().map(|s| ip(s)).collect();
        assert_eq!(got, want, "{old} -> {new}");
        let want: Vec<Ipv4Addr> = dropped.iter().map(|s| ip(s)).collect();
        assert_eq!(lost, want, "{old} -> {new}");
    }
}

#[test]
fn errors_read_like_kubernetes() {
    let range = cidr("10.0.0.0/24");
    let cases = [
        (AllocationError::Full, "range is full"),
        (
            AllocationError::Allocated,
            "provided IP is already allocated",
        ),
        (
            AllocationError::NotInRange { range },
            "provided IP is not in the valid range. The range of valid IPs is 10.0.0.0/24",
        ),
    ];
    for (err, want) in cases {
        assert_eq!(err.to_string(), want);
    }
}
