//! Byte scans of the text formats, eight bytes at a time: where a value
//! holds a byte a writer must quote or escape, or where a reader's plain
//! run ends; and decimal numbers two digits at a time. Bytes are mostly
//! plain, so the scans ask once per eight bytes instead of once per byte.

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Nonzero if a byte of `w` is below `n` (`n` at most 128: exact, never a
/// false answer).
#[inline(always)]
fn has_below(w: u64, n: u8) -> u64 {
    debug_assert!(n <= 128);
    w.wrapping_sub(ONES * n as u64) & !w & HIGH
}

/// Nonzero if a byte of `w` equals `c` (a zero byte of `w ^ c...c`).
#[inline(always)]
fn has(w: u64, c: u8) -> u64 {
    has_below(w ^ (ONES * c as u64), 1)
}

/// The first byte of `data` that `stop` names, skipping eight bytes at a
/// time while `word` (nonzero if a byte of the word may be one) says none
/// is in them.
#[inline(always)]
pub(crate) fn find_stop(data: &[u8], stop: impl Fn(u8) -> bool, word: impl Fn(u64) -> u64) -> Option<usize> {
    let mut at = 0;
    while let Some(c) = data.get(at..at + 8) {
        if word(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])) != 0 {
            break;
        }
        at += 8;
    }
    data[at..].iter().position(|&b| stop(b)).map(|i| at + i)
}

/// Bytes that make the original quote a CSV field (and end an unquoted
/// one when read).
#[inline(always)]
pub(crate) fn csv_special(b: u8) -> bool {
    matches!(b, b',' | b'"' | b'\n' | b'\r')
}

/// [`csv_special`] for the eight bytes of a word.
#[inline(always)]
pub(crate) fn csv_special_word(w: u64) -> u64 {
    has(w, b',') | has(w, b'"') | has(w, b'\n') | has(w, b'\r')
}

/// True if `data` holds a [`csv_special`] byte.
pub(crate) fn any_csv_special(data: &[u8]) -> bool {
    find_stop(data, csv_special, csv_special_word).is_some()
}

/// True if JSON escapes `b`: `"`, `\`, a control byte (below 0x20) or DEL.
#[inline(always)]
pub(crate) fn json_escaped(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\' || b == 0x7F
}

/// [`json_escaped`] for the eight bytes of a word.
#[inline(always)]
pub(crate) fn json_escaped_word(w: u64) -> u64 {
    has_below(w, 0x20) | has(w, b'"') | has(w, b'\\') | has(w, 0x7F)
}

/// True if `b` ends the plain run of a JSON string being read: `"`, `\`, or
/// a control byte (raw DEL is allowed in a string).
#[inline(always)]
pub(crate) fn json_string_stop(b: u8) -> bool {
    b < 0x20 || b == b'"' || b == b'\\'
}

/// [`json_string_stop`] for the eight bytes of a word.
#[inline(always)]
pub(crate) fn json_string_stop_word(w: u64) -> u64 {
    has_below(w, 0x20) | has(w, b'"') | has(w, b'\\')
}

/// True if `b` is `"` (ends the plain run of a quoted CSV field).
#[inline(always)]
pub(crate) fn quote(b: u8) -> bool {
    b == b'"'
}

/// [`quote`] for the eight bytes of a word.
#[inline(always)]
pub(crate) fn quote_word(w: u64) -> u64 {
    has(w, b'"')
}

/// How many bytes at the start of `data` JSON leaves as they are, to the
/// first one it escapes (`data.len()` if none), found eight bytes at a time.
pub(crate) fn json_plain_prefix(data: &[u8]) -> usize {
    find_stop(data, json_escaped, json_escaped_word).unwrap_or(data.len())
}

/// "00" "01" ... "99".
const PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

/// Appends `v` in decimal, two digits per step.
pub(crate) fn push_u64(out: &mut Vec<u8>, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    while v >= 100 {
        let p = (v % 100) as usize * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    }
    if v >= 10 {
        let p = v as usize * 2;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[p..p + 2]);
    } else {
        i -= 1;
        buf[i] = b'0' + v as u8;
    }
    out.extend_from_slice(&buf[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every byte value at every position of buffers up to 24 bytes long
    /// (the word loop, the tail, and both), in a field of a plain byte.
    #[test]
    fn word_scans_agree_with_the_byte_rules() {
        for len in 1..=24 {
            for at in 0..len {
                for b in 0..=255u8 {
                    let mut data = vec![b'a'; len];
                    data[at] = b;
                    let csv = csv_special(b);
                    assert_eq!(any_csv_special(&data), csv, "csv: byte {b:#x} at {at} of {len}");
                    let want = if json_escaped(b) { at } else { len };
                    assert_eq!(json_plain_prefix(&data), want, "json: byte {b:#x} at {at} of {len}");
                }
            }
        }
        // Each (byte rule, word rule) pair the readers and writers use.
        type Rules = (&'static str, fn(u8) -> bool, fn(u64) -> u64);
        let pairs: [Rules; 4] = [
            ("csv", csv_special, csv_special_word),
            ("json escape", json_escaped, json_escaped_word),
            ("json string", json_string_stop, json_string_stop_word),
            ("quote", quote, quote_word),
        ];
        for (name, stop, word) in pairs {
            for len in 1..=24 {
                for at in 0..len {
                    for b in 0..=255u8 {
                        let mut data = vec![b'a'; len];
                        data[at] = b;
                        let want = stop(b).then_some(at);
                        assert_eq!(find_stop(&data, stop, word), want, "{name}: byte {b:#x} at {at} of {len}");
                    }
                }
            }
        }
        // High bytes next to the ones looked for (borrows across bytes).
        let data = [0x80u8, 0x21, 0xFF, 0x2D, 0x0B, 0x7E, 0x80, 0x81, 0x5C];
        assert_eq!(json_plain_prefix(&data), 4);
        assert!(!any_csv_special(&[0xAC, 0x2B, 0x2D, 0x0B, 0x0C, 0x0E, 0x21, 0x23, 0xA2]));
        assert_eq!(json_plain_prefix(&[]), 0);
        assert!(!any_csv_special(&[]));
    }

    #[test]
    fn decimal_numbers() {
        let mut v: Vec<u64> = vec![0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, u64::MAX, u64::MAX - 1, 1 << 63];
        let mut p = 1u64;
        for _ in 0..19 {
            v.extend([p - 1, p, p + 1]);
            p *= 10;
        }
        let mut rng = crate::test_util::xorshift(0x9E37_79B9_7F4A_7C15);
        for _ in 0..10_000 {
            let x = rng();
            v.push(x >> (x % 64));
        }
        for n in v {
            let mut out = b"x".to_vec();
            push_u64(&mut out, n);
            assert_eq!(&out[1..], n.to_string().as_bytes(), "{n}");
        }
    }
}
