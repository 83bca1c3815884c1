//! Reading and writing text: keys, values printed safely, sizes, times,
//! JSON strings.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A number in decimal or with `0x` in hexadecimal (what a key, term or cmd
/// may be written as).
pub fn parse_u64(s: &str) -> Result<u64, String> {
    let bad = || format!("'{s}' is not a number from 0 to 18446744073709551615 (decimal, or hexadecimal after 0x)");
    let (digits, radix) = match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => (h, 16),
        None => (s, 10),
    };
    // from_str_radix accepts a leading '+'; a key does not.
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err(bad());
    }
    u64::from_str_radix(digits, radix).map_err(|_| bad())
}

/// `data` as one line of text: UTF-8 is kept, except that a backslash and
/// the control characters are escaped (`\\`, `\n`, `\r`, `\t`, `\0`, `\xNN`);
/// bytes that are not UTF-8 are written as `\xNN`. Unambiguous: the bytes
/// can be read back from it.
pub fn escape(data: &[u8], out: &mut Vec<u8>) {
    let mut rest = data;
    while !rest.is_empty() {
        let (good, bad) = match std::str::from_utf8(rest) {
            Ok(s) => (s, &[][..]),
            Err(e) => {
                let (g, b) = rest.split_at(e.valid_up_to());
                (std::str::from_utf8(g).unwrap_or_default(), b)
            }
        };
        for c in good.chars() {
            match c {
                '\\' => out.extend_from_slice(b"\\\\"),
                '\n' => out.extend_from_slice(b"\\n"),
                '\r' => out.extend_from_slice(b"\\r"),
                '\t' => out.extend_from_slice(b"\\t"),
                '\0' => out.extend_from_slice(b"\\0"),
                c if c.is_control() => {
                    let mut b = [0u8; 4];
                    for byte in c.encode_utf8(&mut b).bytes() {
                        hex_byte(byte, out);
                    }
                }
                c => {
                    let mut b = [0u8; 4];
                    out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
                }
            }
        }
        if bad.is_empty() {
            break;
        }
        // One undecodable byte (or the undecodable sequence's first byte).
        hex_byte(bad[0], out);
        rest = &bad[1..];
    }
}

fn hex_byte(b: u8, out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.extend_from_slice(&[b'\\', b'x', HEX[(b >> 4) as usize], HEX[(b & 15) as usize]]);
}

/// `escape` into a new string.
#[cfg(test)]
pub fn escaped(data: &[u8]) -> String {
    let mut v = Vec::with_capacity(data.len());
    escape(data, &mut v);
    String::from_utf8(v).unwrap_or_default()
}

/// A JSON string literal (with the quotes) of UTF-8 text.
pub fn json_str(s: &str) -> String {
    let mut v = Vec::with_capacity(s.len() + 2);
    v.push(b'"');
    kvidxkit::formats::json::escape(&mut v, s.as_bytes());
    v.push(b'"');
    String::from_utf8(v).unwrap_or_default()
}

/// Bytes for people: "812 bytes", "95.4 MiB".
pub fn size(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} bytes");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

/// Bytes for people, with the exact number when it is rounded:
/// "812 bytes", "95.4 MiB (100000000 bytes)".
pub fn size_exact(n: u64) -> String {
    if n < 1024 { size(n) } else { format!("{} ({n} bytes)", size(n)) }
}

/// `n` and the noun, singular or plural: "1 key", "2 keys".
pub fn count(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// A duration for people: "850 ms", "2.35 s", "3 min 20 s", "5 h 2 min",
/// "3 d 4 h".
pub fn duration(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1000 {
        format!("{ms} ms")
    } else if s < 60 {
        format!("{:.2} s", d.as_secs_f64())
    } else if s < 3600 {
        format!("{} min {} s", s / 60, s % 60)
    } else if s < 86_400 {
        format!("{} h {} min", s / 3600, s % 3600 / 60)
    } else {
        format!("{} d {} h", s / 86_400, s % 86_400 / 3600)
    }
}

/// Unix milliseconds of `t` (0 before 1970).
pub fn unix_ms(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_millis().min(u64::MAX as u128) as u64)
}

/// A time in UTC, ISO 8601 with milliseconds: "2026-05-01T12:00:00.000Z".
pub fn utc(t: SystemTime) -> String {
    let ms = unix_ms(t);
    let (days, rem) = (ms / 86_400_000, ms % 86_400_000);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    let (h, mi, s, milli) = (rem / 3_600_000, rem / 60_000 % 60, rem / 1000 % 60, rem % 1000);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{milli:03}Z")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_decimal_and_hex() {
        assert_eq!(parse_u64("0"), Ok(0));
        assert_eq!(parse_u64("42"), Ok(42));
        assert_eq!(parse_u64("0x2a"), Ok(42));
        assert_eq!(parse_u64("0X2A"), Ok(42));
        assert_eq!(parse_u64("18446744073709551615"), Ok(u64::MAX));
        assert_eq!(parse_u64("0xffffffffffffffff"), Ok(u64::MAX));
        for bad in ["", "-1", "+1", "18446744073709551616", "0x", "0x1g", "1.5", " 1", "abc", "0x10000000000000000"] {
            assert!(parse_u64(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn values_escape_unambiguously() {
        assert_eq!(escaped(b"plain text"), "plain text");
        assert_eq!(escaped("héllo ✓".as_bytes()), "héllo ✓");
        assert_eq!(escaped(b"a\\b\nc\td\r\0"), "a\\\\b\\nc\\td\\r\\0");
        assert_eq!(escaped(b"\x1b[31m"), "\\x1b[31m");
        assert_eq!(escaped(b"\xff\xfe ok \xc3"), "\\xff\\xfe ok \\xc3");
        assert_eq!(escaped("\u{85}".as_bytes()), "\\xc2\\x85");
    }

    #[test]
    fn sizes_times_and_dates() {
        assert_eq!(size(812), "812 bytes");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(100 << 20), "100.0 MiB");
        assert_eq!(duration(Duration::from_millis(850)), "850 ms");
        assert_eq!(duration(Duration::from_millis(2346)), "2.35 s");
        assert_eq!(duration(Duration::from_secs(200)), "3 min 20 s");
        assert_eq!(utc(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(utc(UNIX_EPOCH + Duration::from_millis(1_777_636_800_123)), "2026-05-01T12:00:00.123Z");
        assert_eq!(utc(UNIX_EPOCH + Duration::from_secs(951_782_400)), "2000-02-29T00:00:00.000Z");
        assert_eq!(json_str("a\"b\n"), "\"a\\\"b\\n\"");
    }
}
