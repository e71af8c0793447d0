//! IPv4 CIDR blocks: parsing, containment, overlap, alignment.
//!
//! A [`Cidr`] is always a network address with its host bits clear:
//! `10.0.0.1/16` is rejected with a hint rather than silently truncated,
//! because a typo in an avoid list must not quietly move the range.

use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One past the last IPv4 address, as a `u64`.
pub const ADDRESS_SPACE_END: u64 = 1 << 32;

/// An IPv4 network: a base address and a prefix length (0–32).
///
/// Ordered by base address, then by prefix length (larger blocks first for
/// the same base).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cidr {
    base: u32,
    len: u8,
}

/// Why a string is not a CIDR block.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidrError {
    #[error("expected ADDRESS/PREFIX, e.g. 10.0.0.0/16")]
    MissingPrefix,
    #[error("`{0}` is not an IPv4 address")]
    BadAddress(String),
    #[error("prefix length `{0}` is not a number from 0 to 32")]
    BadPrefix(String),
    #[error("host bits are set; did you mean {0}?")]
    HostBitsSet(Cidr),
}

impl Cidr {
    /// The block `addr/len`; `addr` must have its host bits clear.
    pub fn new(addr: Ipv4Addr, len: u8) -> Result<Cidr, CidrError> {
        if len > 32 {
            return Err(CidrError::BadPrefix(len.to_string()));
        }
        let base = u32::from(addr);
        let network = base & mask(len);
        if network != base {
            return Err(CidrError::HostBitsSet(Cidr { base: network, len }));
        }
        Ok(Cidr { base, len })
    }

    /// The aligned block of `size` addresses starting at `start`.
    ///
    /// Panics if `size` is not a power of two or `start` is not aligned to
    /// it: callers only build blocks they have aligned themselves.
    pub(crate) fn aligned(start: u64, size: u64) -> Cidr {
        assert!(size.is_power_of_two() && size <= ADDRESS_SPACE_END);
        assert!(start & (size - 1) == 0 && start + size <= ADDRESS_SPACE_END);
        Cidr {
            base: start as u32,
            len: prefix_for_size(size),
        }
    }

    pub fn network(&self) -> Ipv4Addr {
        Ipv4Addr::from(self.base)
    }

    pub fn prefix_len(&self) -> u8 {
        self.len
    }

    /// Number of addresses in the block.
    pub fn size(&self) -> u64 {
        1u64 << (32 - u32::from(self.len))
    }

    /// First address, as a number.
    pub fn start(&self) -> u64 {
        u64::from(self.base)
    }

    /// One past the last address, as a number.
    pub fn end(&self) -> u64 {
        self.start() + self.size()
    }

    /// Whether `other` lies entirely inside `self`.
    pub fn contains(&self, other: &Cidr) -> bool {
        self.start() <= other.start() && other.end() <= self.end()
    }

    /// Whether the two blocks share at least one address.
    pub fn overlaps(&self, other: &Cidr) -> bool {
        self.start() < other.end() && other.start() < self.end()
    }

    /// The two halves of this block, or `None` for a /32.
    pub fn halves(&self) -> Option<(Cidr, Cidr)> {
        if self.len == 32 {
            return None;
        }
        let half = self.size() / 2;
        Some((
            Cidr::aligned(self.start(), half),
            Cidr::aligned(self.start() + half, half),
        ))
    }

    /// The block this one merges with into the next larger aligned block.
    pub fn buddy(&self) -> Option<Cidr> {
        if self.len == 0 {
            return None;
        }
        Some(Cidr::aligned(self.start() ^ self.size(), self.size()))
    }

    /// The address `offset` places into the block (for display).
    pub fn addr_at(&self, offset: u64) -> Ipv4Addr {
        Ipv4Addr::from((self.start() + offset) as u32)
    }
}

/// Network mask for a prefix length.
fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// The prefix length of a block of `size` addresses (`size` a power of two).
pub fn prefix_for_size(size: u64) -> u8 {
    debug_assert!(size.is_power_of_two() && size <= ADDRESS_SPACE_END);
    (32 - size.trailing_zeros()) as u8
}

/// Round `value` up to a multiple of `align` (a power of two).
pub(crate) fn align_up(value: u64, align: u64) -> u64 {
    value.div_ceil(align) * align
}

/// The address range `[start, end)` as the fewest aligned CIDR blocks, in
/// address order.
pub fn range_to_cidrs(mut start: u64, end: u64) -> Vec<Cidr> {
    let mut out = Vec::new();
    while start < end {
        // Largest block aligned at `start` …
        let mut size = if start == 0 {
            ADDRESS_SPACE_END
        } else {
            1u64 << start.trailing_zeros()
        };
        // … that still fits before `end`.
        while start + size > end {
            size /= 2;
        }
        out.push(Cidr::aligned(start, size));
        start += size;
    }
    out
}

impl FromStr for Cidr {
    type Err = CidrError;

    fn from_str(s: &str) -> Result<Cidr, CidrError> {
        let s = s.trim();
        let (addr, len) = s.split_once('/').ok_or(CidrError::MissingPrefix)?;
        let addr: Ipv4Addr = addr
            .parse()
            .map_err(|_| CidrError::BadAddress(addr.to_string()))?;
        let len: u8 = match len.parse() {
            Ok(n) if n <= 32 && !len.starts_with('+') => n,
            _ => return Err(CidrError::BadPrefix(len.to_string())),
        };
        Cidr::new(addr, len)
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network(), self.len)
    }
}

impl fmt::Debug for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Cidr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cidr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Cidr, D::Error> {
        let s = String::deserialize(d)?;
        s.parse()
            .map_err(|e| serde::de::Error::custom(format!("`{s}`: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> Cidr {
        s.parse().unwrap()
    }

    #[test]
    fn parses_and_displays() {
        let n = c("10.1.0.0/16");
        assert_eq!(n.to_string(), "10.1.0.0/16");
        assert_eq!(n.size(), 65536);
        assert_eq!(c("0.0.0.0/0").size(), 1 << 32);
        assert_eq!(c("10.0.0.7/32").size(), 1);
        assert_eq!(c(" 192.168.0.0/24 ").to_string(), "192.168.0.0/24");
    }

    #[test]
    fn rejects_malformed_blocks() {
        assert_eq!("10.0.0.0".parse::<Cidr>(), Err(CidrError::MissingPrefix));
        assert!(matches!(
            "10.0.0/16".parse::<Cidr>(),
            Err(CidrError::BadAddress(_))
        ));
        assert!(matches!(
            "10.0.0.0/33".parse::<Cidr>(),
            Err(CidrError::BadPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/+8".parse::<Cidr>(),
            Err(CidrError::BadPrefix(_))
        ));
        assert!(matches!(
            "10.0.0.0/".parse::<Cidr>(),
            Err(CidrError::BadPrefix(_))
        ));
        let err = "10.0.0.1/16".parse::<Cidr>().unwrap_err();
        assert_eq!(err, CidrError::HostBitsSet(c("10.0.0.0/16")));
        assert_eq!(
            err.to_string(),
            "host bits are set; did you mean 10.0.0.0/16?"
        );
    }

    #[test]
    fn containment_and_overlap() {
        let a = c("10.0.0.0/16");
        assert!(a.contains(&c("10.0.255.0/24")));
        assert!(a.contains(&a));
        assert!(!a.contains(&c("10.0.0.0/15")));
        assert!(a.overlaps(&c("10.0.0.0/8")));
        assert!(a.overlaps(&c("10.0.128.0/17")));
        assert!(!a.overlaps(&c("10.1.0.0/16")));
        assert!(!c("10.0.0.0/25").overlaps(&c("10.0.0.128/25")));
        assert!(c("0.0.0.0/0").overlaps(&c("255.255.255.255/32")));
    }

    #[test]
    fn halves_and_buddies() {
        let (lo, hi) = c("10.0.0.0/22").halves().unwrap();
        assert_eq!((lo, hi), (c("10.0.0.0/23"), c("10.0.2.0/23")));
        assert_eq!(lo.buddy(), Some(hi));
        assert_eq!(hi.buddy(), Some(lo));
        assert_eq!(c("10.0.0.1/32").halves(), None);
        assert_eq!(c("0.0.0.0/0").buddy(), None);
    }

    #[test]
    fn ranges_decompose_into_aligned_blocks() {
        let blocks = range_to_cidrs(u64::from(u32::from(Ipv4Addr::new(10, 0, 0, 64))), {
            u64::from(u32::from(Ipv4Addr::new(10, 0, 2, 0)))
        });
        assert_eq!(
            blocks,
            vec![c("10.0.0.64/26"), c("10.0.0.128/25"), c("10.0.1.0/24")]
        );
        assert_eq!(range_to_cidrs(0, ADDRESS_SPACE_END), vec![c("0.0.0.0/0")]);
        assert!(range_to_cidrs(5, 5).is_empty());
    }

    #[test]
    fn serde_round_trip() {
        let n = c("100.64.0.0/16");
        let json = serde_json::to_string(&n).unwrap();
        assert_eq!(json, "\"100.64.0.0/16\"");
        assert_eq!(serde_json::from_str::<Cidr>(&json).unwrap(), n);
        let err = serde_json::from_str::<Cidr>("\"10.0.0.1/8\"").unwrap_err();
        assert!(err.to_string().contains("did you mean 10.0.0.0/8"), "{err}");
    }
}
