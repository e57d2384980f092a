//! Durations as people write them: `"1s"`, `"30s"`, `"5m"`, `"6h"`, `"1d"`, `"1h30m"`, or a
//! clock time `"02:00"` / `"02:00:30"` (hours:minutes[:seconds] from the start).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A whole number of seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(pub u64);

impl Duration {
    pub fn secs(self) -> u64 {
        self.0
    }

    pub fn parse(text: &str) -> Result<Duration, String> {
        let t = text.trim();
        if t.is_empty() {
            return Err("empty duration".into());
        }
        if t.contains(':') {
            let parts: Vec<&str> = t.split(':').collect();
            if parts.len() > 3 || parts.iter().any(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()))
            {
                return Err(format!("{text:?} is not a clock time like \"02:00\""));
            }
            let nums: Vec<u64> = parts.iter().map(|p| p.parse().unwrap_or(u64::MAX)).collect();
            if nums.iter().skip(1).any(|&n| n >= 60) {
                return Err(format!("{text:?}: minutes and seconds must be below 60"));
            }
            let secs = nums
                .iter()
                .zip([3600u64, 60, 1])
                .try_fold(0u64, |acc, (&n, unit)| n.checked_mul(unit).and_then(|v| acc.checked_add(v)));
            return secs.map(Duration).ok_or_else(|| format!("{text:?} is too long"));
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        for c in t.chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3_600,
                'd' => 86_400,
                _ => return Err(format!("{text:?}: unknown unit {c:?} (use s, m, h or d)")),
            };
            let n: u64 = digits.parse().map_err(|_| format!("{text:?}: a number must come before {c:?}"))?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| format!("{text:?} is too long"))?;
            digits.clear();
        }
        if !digits.is_empty() {
            return Err(format!("{text:?}: the number {digits} has no unit (use s, m, h or d)"));
        }
        Ok(Duration(total))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.0;
        match s {
            0 => write!(f, "0s"),
            _ if s.is_multiple_of(86_400) => write!(f, "{}d", s / 86_400),
            _ if s.is_multiple_of(3_600) => write!(f, "{}h", s / 3_600),
            _ if s.is_multiple_of(60) => write!(f, "{}m", s / 60),
            _ => write!(f, "{s}s"),
        }
    }
}

impl Serialize for Duration {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        for (text, secs) in [
            ("1s", 1),
            ("30s", 30),
            ("5m", 300),
            ("6h", 21_600),
            ("1d", 86_400),
            ("1h30m", 5_400),
            ("02:00", 7_200),
            ("00:00:30", 30),
        ] {
            assert_eq!(Duration::parse(text), Ok(Duration(secs)), "{text}");
        }
        for bad in ["", "6", "h", "6x", "-1h", "1.5h", "2:75", "1:2:3:4", "99999999999999999999d"] {
            assert!(Duration::parse(bad).is_err(), "{bad} should be refused");
        }
        assert_eq!(Duration(5_400).to_string(), "90m");
        assert_eq!(Duration(21_600).to_string(), "6h");
    }
}
