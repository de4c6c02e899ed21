//! Service cluster IP allocation, pure: the `--portal-net` range ([`Ipv4Cidr`]), the map of
//! allocated addresses over it ([`AllocationMap`]) and its stored form ([`RangeAllocation`],
//! Kubernetes' `/registry/ranges/serviceips` object).
//!
//! As in Kubernetes, the network and broadcast addresses are never handed out; every other
//! address of the range is. Offset 0 is the network address + 1. The stored `data` is
//! Kubernetes' own encoding of the bitmap: bit `i` set when offset `i` is allocated, the bits
//! read as one big-endian integer without leading zero bytes, in base64 (an empty map is `""`).

use crate::meta::ObjectMeta;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// `kind` of the stored allocation object.
pub const RANGE_ALLOCATION_KIND: &str = "RangeAllocation";

/// The smallest prefix length accepted: a /12 has 2^20 addresses, Kubernetes' limit for a
/// bitmap-backed service range (larger ranges would make the stored bitmap huge).
pub const MIN_PREFIX_LEN: u8 = 12;

/// The largest prefix length accepted: a /30 has two usable addresses; a /31 and a /32 have
/// none besides the network and broadcast addresses.
pub const MAX_PREFIX_LEN: u8 = 30;

/// Why a CIDR was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    /// Not `a.b.c.d/n`.
    #[error(
        "invalid CIDR {text:?}: expected an IPv4 address and a prefix length, e.g. 10.0.0.0/24"
    )]
    Syntax {
        /// The text given.
        text: String,
    },
    /// An IPv6 range.
    #[error("invalid CIDR {text:?}: only IPv4 service ranges are supported")]
    Ipv6 {
        /// The text given.
        text: String,
    },
    /// A prefix too long to leave any address besides the network and broadcast ones.
    #[error("CIDR {text:?} is too small: a /{prefix} holds no service address (use at most /{MAX_PREFIX_LEN})")]
    TooSmall {
        /// The text given.
        text: String,
        /// Its prefix length.
        prefix: u8,
    },
    /// A prefix so short that the bitmap would be huge.
    #[error("CIDR {text:?} is too large: a /{prefix} has more than 2^20 addresses (use at least /{MIN_PREFIX_LEN})")]
    TooLarge {
        /// The text given.
        text: String,
        /// Its prefix length.
        prefix: u8,
    },
}

/// An IPv4 network, e.g. `10.0.0.0/24`. Host bits given in the text are cleared, as Go's
/// `net.ParseCIDR` does (`10.0.0.7/24` is `10.0.0.0/24`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ipv4Cidr {
    network: u32,
    prefix: u8,
}

impl Ipv4Cidr {
    /// The network containing `addr` with `prefix` leading bits, if it can hold services.
    pub fn new(addr: Ipv4Addr, prefix: u8) -> Result<Ipv4Cidr, CidrError> {
        let text = format!("{addr}/{prefix}");
        if prefix > 32 {
            return Err(CidrError::Syntax { text });
        }
        if prefix > MAX_PREFIX_LEN {
            return Err(CidrError::TooSmall { text, prefix });
        }
        if prefix < MIN_PREFIX_LEN {
            return Err(CidrError::TooLarge { text, prefix });
        }
        let mask = u32::MAX << (32 - prefix);
        Ok(Ipv4Cidr {
            network: u32::from(addr) & mask,
            prefix,
        })
    }

    /// The network address (never allocated).
    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network)
    }

    /// The prefix length.
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// The broadcast address (never allocated).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.network | (u32::MAX >> self.prefix))
    }

    /// Whether `ip` is in the network (network and broadcast addresses included).
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        u32::from(ip) & (u32::MAX << (32 - self.prefix)) == self.network
    }

    /// How many addresses can be allocated: all but the network and broadcast ones.
    pub fn size(&self) -> u32 {
        (1u32 << (32 - self.prefix)) - 2
    }

    /// The offset of an allocatable `ip`, or `None` outside the range or for the network or
    /// broadcast address.
    fn offset(&self, ip: Ipv4Addr) -> Option<u32> {
        let ip = u32::from(ip);
        let offset = ip.checked_sub(self.network)?.checked_sub(1)?;
        (offset < self.size()).then_some(offset)
    }

    /// The address at `offset` (below `size()`).
    fn ip_at(&self, offset: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.network + 1 + offset)
    }
}

impl FromStr for Ipv4Cidr {
    type Err = CidrError;

    fn from_str(text: &str) -> Result<Ipv4Cidr, CidrError> {
        let syntax = || CidrError::Syntax { text: text.into() };
        let (addr, prefix) = text.split_once('/').ok_or_else(syntax)?;
        if addr.parse::<Ipv6Addr>().is_ok() {
            return Err(CidrError::Ipv6 { text: text.into() });
        }
        if !(1..=2).contains(&prefix.len()) || !prefix.bytes().all(|b| b.is_ascii_digit()) {
            return Err(syntax());
        }
        let prefix: u8 = prefix.parse().map_err(|_| syntax())?;
        let addr: Ipv4Addr = addr.parse().map_err(|_| syntax())?;
        Ipv4Cidr::new(addr, prefix).map_err(|e| match e {
            // Report the text as given, not as re-rendered.
            CidrError::TooSmall { prefix, .. } => CidrError::TooSmall {
                text: text.into(),
                prefix,
            },
            CidrError::TooLarge { prefix, .. } => CidrError::TooLarge {
                text: text.into(),
                prefix,
            },
            _ => syntax(),
        })
    }
}

impl fmt::Display for Ipv4Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.prefix)
    }
}

/// Why an address could not be allocated. The messages are Kubernetes'.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AllocationError {
    /// Every address of the range is allocated.
    #[error("range is full")]
    Full,
    /// The requested address is outside the range, or its network or broadcast address.
    #[error("provided IP is not in the valid range. The range of valid IPs is {range}")]
    NotInRange {
        /// The range.
        range: Ipv4Cidr,
    },
    /// The requested address is taken.
    #[error("provided IP is already allocated")]
    Allocated,
}

/// Why a stored [`RangeAllocation`] could not be read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RangeAllocationError {
    /// Its `range` is not a usable CIDR.
    #[error("stored range: {0}")]
    Range(#[from] CidrError),
    /// Its `data` is not base64.
    #[error("stored data is not base64: {0}")]
    Data(String),
    /// Its `data` marks offsets beyond the range.
    #[error("stored data marks offset {offset}, beyond the {size} addresses of {range}")]
    BeyondRange {
        /// The first offset out of range.
        offset: u64,
        /// The number of addresses of the range.
        size: u32,
        /// The range.
        range: Ipv4Cidr,
    },
}

/// The stored allocation map of a range (Kubernetes' `RangeAllocation`, `v1`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RangeAllocation {
    /// `v1`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_version: String,
    /// `RangeAllocation`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kind: String,
    /// Standard object metadata (unused but for `resourceVersion` when read).
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// The range, e.g. `10.0.0.0/24`.
    #[serde(default)]
    pub range: String,
    /// The bitmap of allocated offsets (see the module documentation).
    #[serde(default)]
    pub data: String,
}

/// The addresses allocated in a range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllocationMap {
    range: Ipv4Cidr,
    /// Bit `i % 8` of byte `i / 8` is offset `i`.
    bits: Vec<u8>,
    used: u32,
}

impl AllocationMap {
    /// An empty map over `range`.
    pub fn new(range: Ipv4Cidr) -> AllocationMap {
        AllocationMap {
            range,
            bits: vec![0; range.size().div_ceil(8) as usize],
            used: 0,
        }
    }

    /// The range.
    pub fn range(&self) -> Ipv4Cidr {
        self.range
    }

    /// How many addresses are allocated.
    pub fn used(&self) -> u32 {
        self.used
    }

    /// How many addresses are free.
    pub fn free(&self) -> u32 {
        self.range.size() - self.used
    }

    /// Whether `ip` is allocated.
    pub fn has(&self, ip: Ipv4Addr) -> bool {
        self.range.offset(ip).is_some_and(|o| self.bit(o))
    }

    /// The allocated addresses, in order.
    pub fn allocated(&self) -> impl Iterator<Item = Ipv4Addr> + '_ {
        (0..self.range.size())
            .filter(|o| self.bit(*o))
            .map(|o| self.range.ip_at(o))
    }

    /// Allocates `ip`: refused outside the range (network and broadcast addresses included)
    /// and when taken.
    pub fn allocate(&mut self, ip: Ipv4Addr) -> Result<(), AllocationError> {
        let offset = self
            .range
            .offset(ip)
            .ok_or(AllocationError::NotInRange { range: self.range })?;
        if self.bit(offset) {
            return Err(AllocationError::Allocated);
        }
        self.set(offset, true);
        Ok(())
    }

    /// Allocates the first free address after `last` (wrapping around; from the start when
    /// `last` is `None` or outside the range), so a freed address is not handed out again
    /// until the others have been.
    pub fn allocate_next(&mut self, last: Option<Ipv4Addr>) -> Result<Ipv4Addr, AllocationError> {
        if self.free() == 0 {
            return Err(AllocationError::Full);
        }
        let size = self.range.size();
        let start = last
            .and_then(|ip| self.range.offset(ip))
            .map_or(0, |o| (o + 1) % size);
        let offset = self
            .first_free(start, size)
            .or_else(|| self.first_free(0, start))
            .ok_or(AllocationError::Full)?;
        self.set(offset, true);
        Ok(self.range.ip_at(offset))
    }

    /// Frees `ip`; whether it was allocated (addresses outside the range never are).
    pub fn release(&mut self, ip: Ipv4Addr) -> bool {
        match self.range.offset(ip) {
            Some(o) if self.bit(o) => {
                self.set(o, false);
                true
            }
            _ => false,
        }
    }

    /// The same allocations over `range`; also the addresses dropped for being outside it.
    pub fn resized(&self, range: Ipv4Cidr) -> (AllocationMap, Vec<Ipv4Addr>) {
        let mut map = AllocationMap::new(range);
        let mut dropped = Vec::new();
        for ip in self.allocated() {
            if map.allocate(ip).is_err() {
                dropped.push(ip);
            }
        }
        (map, dropped)
    }

    /// The stored form.
    pub fn to_range_allocation(&self) -> RangeAllocation {
        // Kubernetes' big-endian integer: our little-endian bytes reversed, leading zeros cut.
        let mut bytes = self.bits.clone();
        while bytes.last() == Some(&0) {
            bytes.pop();
        }
        bytes.reverse();
        RangeAllocation {
            api_version: "v1".into(),
            kind: RANGE_ALLOCATION_KIND.into(),
            metadata: ObjectMeta::default(),
            range: self.range.to_string(),
            data: base64_encode(&bytes),
        }
    }

    /// Reads a stored map over the range it was stored with.
    pub fn from_range_allocation(
        stored: &RangeAllocation,
    ) -> Result<AllocationMap, RangeAllocationError> {
        let range: Ipv4Cidr = stored.range.parse()?;
        let mut bytes = base64_decode(&stored.data).map_err(RangeAllocationError::Data)?;
        bytes.reverse();
        let mut map = AllocationMap::new(range);
        for (i, byte) in bytes.iter().enumerate() {
            for bit in 0..8 {
                if byte & (1 << bit) == 0 {
                    continue;
                }
                let offset = i as u64 * 8 + bit;
                if offset >= u64::from(range.size()) {
                    return Err(RangeAllocationError::BeyondRange {
                        offset,
                        size: range.size(),
                        range,
                    });
                }
                map.set(offset as u32, true);
            }
        }
        Ok(map)
    }

    fn bit(&self, offset: u32) -> bool {
        self.bits[(offset / 8) as usize] & (1 << (offset % 8)) != 0
    }

    fn set(&mut self, offset: u32, on: bool) {
        let byte = &mut self.bits[(offset / 8) as usize];
        let mask = 1u8 << (offset % 8);
        if (*byte & mask != 0) != on {
            *byte ^= mask;
            if on {
                self.used += 1;
            } else {
                self.used -= 1;
            }
        }
    }

    /// The first free offset in `from..to`.
    fn first_free(&self, from: u32, to: u32) -> Option<u32> {
        let mut o = from;
        while o < to {
            // Skip whole full bytes.
            if o % 8 == 0 && self.bits[(o / 8) as usize] == u8::MAX {
                o += 8;
                continue;
            }
            if !self.bit(o) {
                return Some(o);
            }
            o += 1;
        }
        None
    }
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding (Go's `encoding/json` form of `[]byte`).
fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(BASE64[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes standard base64 with padding; an error says what is wrong.
fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    if text.len() % 4 != 0 {
        return Err(format!("length {} is not a multiple of 4", text.len()));
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let quads = text.as_bytes().chunks(4);
    let last = quads.len().saturating_sub(1);
    for (q, quad) in quads.enumerate() {
        let pad = quad.iter().rev().take_while(|c| **c == b'=').count();
        if pad > 2 || (pad > 0 && q != last) {
            return Err("misplaced padding".into());
        }
        let mut n = 0u32;
        for (i, c) in quad[..4 - pad].iter().enumerate() {
            let v = BASE64
                .iter()
                .position(|b| b == c)
                .ok_or_else(|| format!("invalid character {:?}", *c as char))?;
            n |= (v as u32) << (18 - 6 * i);
        }
        out.extend_from_slice(&n.to_be_bytes()[1..4 - pad]);
    }
    Ok(out)
}

#[cfg(test)]
#[path = "ip_allocator_tests.rs"]
mod tests;
