//! Replays every committed fuzz input (fuzz/corpus/<target>/ and
//! fuzz/artifacts/<target>/) through the fuzz harness on the stable
//! toolchain, so `make test` keeps every property the fuzzers check and
//! every defect they found fixed. See docs/fuzzing.md.
#![cfg(all(feature = "sqlite", feature = "lmdb"))]

#[path = "fuzz_harness/mod.rs"]
mod fuzz_harness;

use std::path::{Path, PathBuf};

use fuzz_harness::{ImportCtx, OpsCtx, scratch_dir};
use kvidxkit::formats::Format;

/// The committed inputs of `target`, corpus and reproducers.
fn inputs(target: &str) -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut files = Vec::new();
    for sub in ["corpus", "artifacts"] {
        if let Ok(rd) = std::fs::read_dir(root.join(sub).join(target)) {
            files.extend(rd.flatten().map(|e| e.path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

fn replay(target: &str, min: usize, mut run: impl FnMut(&[u8])) -> usize {
    let files = inputs(target);
    assert!(files.len() >= min, "{target}: {} committed inputs, expected at least {min}", files.len());
    for f in &files {
        let data = std::fs::read(f).unwrap();
        eprintln!("{target}: {}", f.display());
        run(&data);
    }
    files.len()
}

fn replay_import(target: &str, format: Format) {
    let dir = scratch_dir(&format!("replay-{target}"));
    let mut ctx = ImportCtx::new(&dir);
    let n = replay(target, 10, |d| ctx.check(d, format));
    assert_eq!(ctx.inputs, n);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn import_binary_corpus() {
    replay_import("import_binary", Format::Binary);
}

#[test]
fn import_json_corpus() {
    replay_import("import_json", Format::Json);
}

#[test]
fn import_csv_corpus() {
    replay_import("import_csv", Format::Csv);
}

#[test]
fn ops_corpus() {
    let dir = scratch_dir("replay-ops");
    let mut ctx = OpsCtx::new(&dir);
    let n = replay("ops", 10, |d| ctx.run(d));
    assert_eq!(ctx.inputs, n);
    eprintln!("ops: {n} inputs, {} operations", ctx.ops);
    // The corpus must exercise the engines, not just exist.
    assert!(ctx.ops >= 100 * n.min(10), "only {} operations run from {n} inputs", ctx.ops);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Writes the hand-made seed inputs into fuzz/corpus/ (run once by hand:
/// `cargo test --release --test fuzz_replay -- --ignored write_seeds`; the
/// fuzzers grow the corpus from them, see docs/fuzzing.md).
#[test]
#[ignore]
fn write_seeds() {
    use kvidxkit::formats::ExportOptions;
    use kvidxkit::{Sqlite, Store};

    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let dir = scratch_dir("seeds");
    let save = |target: &str, name: &str, bytes: &[u8]| {
        let d = root.join(target);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(d.join(format!("seed-{name}")), bytes).unwrap();
    };

    // Stores whose exports are the import seeds.
    const H: u64 = 1 << 63;
    type Rows = Vec<(u64, u64, u64, Vec<u8>)>;
    let sets: Vec<(&str, Rows)> = vec![
        ("empty", vec![]),
        ("worked", vec![(1, 5, 2, b"hi".to_vec()), (300, 6, 0, b"say \"x\",\n\x01\x7f\xc3\xa9/\\\t".to_vec())]),
        (
            "edges",
            vec![
                (0, 0, 0, vec![]),
                (H - 1, u64::MAX, H, b"base64:looks encoded".to_vec()),
                (H, 1, 1, vec![0xff, 0xfe, 0x00, 0x80]),
                (u64::MAX, H - 1, u64::MAX, "\u{1F600} \u{20AC}\r\n".as_bytes().to_vec()),
            ],
        ),
        ("large", vec![(7, 1, 2, (0..3000u32).map(|i| (i * 7) as u8).collect()), (8, 0, 0, vec![b','; 10])]),
    ];
    for (name, entries) in &sets {
        let path = dir.join(format!("{name}.sqlite3"));
        let mut s = Store::<Sqlite>::open(&path).unwrap();
        for (k, t, c, d) in entries {
            s.insert(*k, *t, *c, d).unwrap();
        }
        for (format, target, variants) in [
            (Format::Binary, "import_binary", &[(true, false)][..]),
            (Format::Json, "import_json", &[(true, false), (true, true), (false, false)][..]),
            (Format::Csv, "import_csv", &[(true, false), (false, false)][..]),
        ] {
            for &(meta, pretty) in variants {
                let out = dir.join("out");
                let opts = ExportOptions { format, include_metadata: meta, pretty, ..ExportOptions::default() };
                s.export_to(&out, &opts).unwrap();
                let bytes = std::fs::read(&out).unwrap();
                let tag = format!("{name}{}{}", if meta { "" } else { "-plain" }, if pretty { "-pretty" } else { "" });
                save(target, &tag, &bytes);
                // Each format's files also go to the other targets (auto-detection).
                if *name == "worked" && meta && !pretty {
                    for other in ["import_binary", "import_json", "import_csv"] {
                        if other != target {
                            save(other, &format!("{tag}-{target}"), &bytes);
                        }
                    }
                }
                // Hostile variants: cut in the middle, one byte flipped, a duplicate key.
                if *name == "worked" && meta && !pretty {
                    save(target, &format!("{tag}-cut"), &bytes[..bytes.len() / 2]);
                    let mut flip = bytes.clone();
                    let i = flip.len() * 2 / 3;
                    flip[i] ^= 0x20;
                    save(target, &format!("{tag}-flip"), &flip);
                }
            }
        }
        let _ = s.close();
    }
    // Hand-written text files: whitespace, escapes, surrogates, CRLF, quoting.
    save(
        "import_json",
        "hand-ws",
        b" \r\n{ \"version\" : 1 , \"entries\" : [ { \"dataBase64\" : \"AP8=\" , \"key\" : 18446744073709551615 } ] , \"format\" : \"kvidx-json\" }\n",
    );
    save(
        "import_json",
        "hand-escapes",
        br#"{"format":"kvidx-json","version":1,"entries":[{"key":2,"term":3,"cmd":4,"data":"\ud83d\ude00\u00e9\b\f\/"},{"key":9223372036854775808,"data":""}]}"#,
    );
    save(
        "import_json",
        "hand-dup",
        br#"{"format":"kvidx-json","version":1,"entries":[{"key":5,"data":"a"},{"key":5,"data":"b"}]}"#,
    );
    save("import_csv", "hand-crlf", b"key,term,cmd,data\r\n1,2,3,\"a\"\"b,\r\nc\"\r\n0002,0,0,base64:/w==\r\n");
    save("import_csv", "hand-dup", b"key,data\n1,x\n1,y\n");
    let mut bin = Vec::new();
    bin.extend_from_slice(&[0x00, 0x4B, 0x56, 0x45, 0x56, 0x49, 0x44, 0x58, 1, 0, 0, 0, 9, 9, 9, 9]);
    bin.extend_from_slice(&2u64.to_le_bytes());
    for k in [H, 3] {
        bin.extend_from_slice(&k.to_le_bytes());
        bin.extend_from_slice(&[1; 16]);
        bin.extend_from_slice(&1u64.to_le_bytes());
        bin.push(b'v');
    }
    save("import_binary", "hand-unsorted-reserved", &bin);
    let mut lying = bin[..24].to_vec();
    lying[16..24].copy_from_slice(&u64::MAX.to_le_bytes());
    save("import_binary", "hand-count-max", &lying);

    // Operation sequences: every operation once (twice the key set), a
    // transaction story, and pseudo-random sequences.
    let mut every = Vec::new();
    for round in 0..3u8 {
        for op in 0..32u8 {
            every.push(op);
            every.extend_from_slice(&[round * 5 + op, 0x41 + round, 3, op ^ 0x5a, 2, 1, 0x47, round, op, 9, 4, 1]);
        }
    }
    save("ops", "every-op", &every);
    // begin; insert 0, 15 (MAX), 10 (2^63); expire 15 in the past; range
    // remove exclusive; abort; reopen; expire-scan.
    let story = [
        0, 0, 0, 0, 0x42, 0, 14, 1, 1, 0x43, 24, 0, 14, 2, 2, 0x44, 0, 10, 3, 3, 0x45, 21, 14, 0, 9, 21, 10, 3, 5, 0,
        0, 1, 0, 8, 14, 10, 12, 26, 28, 23, 0, 24, 0, 9, 0, 0, 0x46, 21, 9, 1, 7, 28, 23, 1, 12,
    ];
    save("ops", "txn-story", &story);
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..12 {
        let len = 64 + i * 40;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x >> 32) as u8
            })
            .collect();
        save("ops", &format!("random-{i:02}"), &bytes);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
