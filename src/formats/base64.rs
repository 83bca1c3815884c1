//! Standard base64 (RFC 4648 §4: alphabet `A–Z a–z 0–9 + /`, `=` padding),
//! used by the JSON (`"dataBase64"`) and CSV (`"base64:…"`) encodings of values
//! that are not valid UTF-8. Decoding is strict: the length must be a
//! multiple of 4, padding only at the end, no whitespace, and the unused
//! bits of the last group must be zero (so every value has exactly one
//! encoding and a round trip is byte-exact).

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Appends the base64 text of `data` to `out`.
pub fn encode_into(data: &[u8], out: &mut Vec<u8>) {
    out.reserve(data.len().div_ceil(3) * 4);
    let mut chunks = data.chunks_exact(3);
    for c in &mut chunks {
        let n = (c[0] as u32) << 16 | (c[1] as u32) << 8 | c[2] as u32;
        out.extend_from_slice(&[
            ALPHABET[(n >> 18) as usize & 63],
            ALPHABET[(n >> 12) as usize & 63],
            ALPHABET[(n >> 6) as usize & 63],
            ALPHABET[n as usize & 63],
        ]);
    }
    match *chunks.remainder() {
        [a] => {
            let n = (a as u32) << 16;
            out.extend_from_slice(&[ALPHABET[(n >> 18) as usize & 63], ALPHABET[(n >> 12) as usize & 63], b'=', b'=']);
        }
        [a, b] => {
            let n = (a as u32) << 16 | (b as u32) << 8;
            out.extend_from_slice(&[
                ALPHABET[(n >> 18) as usize & 63],
                ALPHABET[(n >> 12) as usize & 63],
                ALPHABET[(n >> 6) as usize & 63],
                b'=',
            ]);
        }
        _ => {}
    }
}

/// The base64 text of `data`.
pub fn encode(data: &[u8]) -> String {
    let mut out = Vec::new();
    encode_into(data, &mut out);
    // The alphabet is ASCII.
    String::from_utf8(out).unwrap_or_default()
}

fn value(c: u8) -> Option<u32> {
    Some(match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => return None,
    } as u32)
}

/// Decodes strict base64 text into `out` (cleared first). The error says
/// what is wrong, with the character position.
pub fn decode_into(text: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    out.clear();
    if !text.len().is_multiple_of(4) {
        return Err(format!("base64 text has length {}, not a multiple of 4", text.len()));
    }
    out.reserve(text.len() / 4 * 3);
    let groups = text.len() / 4;
    for (g, quad) in text.chunks_exact(4).enumerate() {
        let last = g + 1 == groups;
        let pad = if last { quad.iter().rev().take_while(|&&c| c == b'=').count() } else { 0 };
        if pad > 2 {
            return Err(format!("bad base64 padding at character {}", g * 4 + 1));
        }
        let mut n = 0u32;
        for (j, &c) in quad[..4 - pad].iter().enumerate() {
            match value(c) {
                Some(v) => n |= v << (18 - 6 * j),
                None => return Err(format!("invalid base64 character {:?} at character {}", c as char, g * 4 + j + 1)),
            }
        }
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        let keep = 3 - pad;
        // The unused low bits of a padded group must be zero.
        let unused = match pad {
            1 => n & 0xFF,
            2 => n & 0xFFFF,
            _ => 0,
        };
        if unused != 0 {
            return Err(format!("non-canonical base64 padding bits at character {}", g * 4 + 1));
        }
        out.extend_from_slice(&bytes[..keep]);
    }
    Ok(())
}
