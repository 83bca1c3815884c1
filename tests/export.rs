//! Export and import through the safe Rust API (decisions.md G1–G6,
//! primitives.md §5), run against every engine: golden byte-for-byte
//! outputs, exact round trips, hostile files, atomicity.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use kvidxkit::formats::{self, ExportOptions, Format, ImportOptions, Reader, Writer, base64};
use kvidxkit::{Engine, Entry, Error, ErrorCode, Store, Ttl};

const MAX: u64 = u64::MAX;
const H: u64 = 1 << 63;

fn scratch(name: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!(
        "export-{name}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn open<E: Engine>(dir: &Path, name: &str) -> Store<E> {
    Store::<E>::open(dir.join(format!("{name}-{}", E::NAME))).expect("open")
}

fn entry(key: u64, term: u64, cmd: u64, data: &[u8]) -> Entry {
    Entry { key, term, cmd, data: data.to_vec() }
}

fn all<E: Engine>(s: &mut Store<E>) -> Vec<Entry> {
    s.range(0..=MAX).map(|e| e.unwrap()).collect()
}

/// Entries plus which keys carry a TTL: "the database exactly as before".
#[derive(Debug, PartialEq, Eq)]
struct Snapshot {
    entries: Vec<Entry>,
    ttl_keys: Vec<u64>,
    ttl_count: usize,
}

fn snapshot<E: Engine>(s: &mut Store<E>) -> Snapshot {
    let entries = all(s);
    let ttl_keys =
        entries.iter().filter(|e| matches!(s.ttl(e.key).unwrap(), Ttl::Remaining(_))).map(|e| e.key).collect();
    Snapshot { entries, ttl_keys, ttl_count: s.ttl_count() }
}

fn fill<E: Engine>(s: &mut Store<E>, entries: &[Entry]) {
    for e in entries {
        s.insert(e.key, e.term, e.cmd, &e.data).unwrap();
    }
}

fn code<T: std::fmt::Debug>(r: kvidxkit::Result<T>) -> ErrorCode {
    r.expect_err("expected an error").code()
}

fn exp(format: Format, meta: bool, pretty: bool) -> ExportOptions {
    ExportOptions { format, include_metadata: meta, pretty, ..ExportOptions::default() }
}

fn imp(format: Option<Format>) -> ImportOptions {
    ImportOptions { format, ..ImportOptions::default() }
}

/// The two entries of the worked examples (primitives.md §5.3–§5.5).
fn worked() -> Vec<Entry> {
    vec![entry(1, 5, 2, b"hi"), entry(300, 6, 0, b"say \"x\",\n\x01\x7f\xc3\xa9/\\\t")]
}

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(|b| b.is_ascii_hexdigit()).collect();
    digits.chunks(2).map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap()).collect()
}

fn golden_binary_bytes() -> Vec<u8> {
    // The hex dump of primitives.md §5.3 (without offsets and comments).
    hex("004b 5645 5649 4458 0100 0000 0000 0000
         0200 0000 0000 0000 0100 0000 0000 0000
         0500 0000 0000 0000 0200 0000 0000 0000
         0200 0000 0000 0000 6869 2c01 0000 0000
         0000 0600 0000 0000 0000 0000 0000 0000
         0000 1000 0000 0000 0000 7361 7920 2278
         222c 0a01 7fc3 a92f 5c09")
}

const JSON_COMPACT: &str = concat!(
    r#"{"format":"kvidx-json","version":1,"entries":[{"key":1,"term":5,"cmd":2,"data":"hi"},"#,
    r#"{"key":300,"term":6,"cmd":0,"data":"say \"x\",\n\u0001\u007fé/\\\t"}]}"#,
    "\n"
);
const JSON_PRETTY: &str = concat!(
    r#"{"format":"kvidx-json","version":1,"entries":["#,
    "\n\n",
    r#"  {"key":1,"term":5,"cmd":2,"data":"hi"},"#,
    "\n",
    r#"  {"key":300,"term":6,"cmd":0,"data":"say \"x\",\n\u0001\u007fé/\\\t"}"#,
    "\n]}\n"
);
const JSON_COMPACT_PLAIN: &str = concat!(
    r#"{"format":"kvidx-json","version":1,"entries":[{"key":1,"data":"hi"},"#,
    r#"{"key":300,"data":"say \"x\",\n\u0001\u007fé/\\\t"}]}"#,
    "\n"
);
const JSON_PRETTY_PLAIN: &str = concat!(
    r#"{"format":"kvidx-json","version":1,"entries":["#,
    "\n\n",
    r#"  {"key":1,"data":"hi"},"#,
    "\n",
    r#"  {"key":300,"data":"say \"x\",\n\u0001\u007fé/\\\t"}"#,
    "\n]}\n"
);
const CSV_META: &[u8] = b"key,term,cmd,data\n1,5,2,hi\n300,6,0,\"say \"\"x\"\",\n\x01\x7f\xc3\xa9/\\\t\"\n";
const CSV_PLAIN: &[u8] = b"key,data\n1,hi\n300,\"say \"\"x\"\",\n\x01\x7f\xc3\xa9/\\\t\"\n";

fn export_bytes<E: Engine>(s: &mut Store<E>, dir: &Path, opts: &ExportOptions) -> Vec<u8> {
    let p = dir.join("out");
    let n = s.export_to(&p, opts).unwrap();
    let bytes = std::fs::read(&p).unwrap();
    let _ = n;
    bytes
}

// ----------------------------------------------------------------------
// Golden outputs

fn golden_binary<E: Engine>() {
    let dir = scratch("golden-bin");
    let mut s = open::<E>(&dir, "db");
    let out = export_bytes(&mut s, &dir, &ExportOptions::default());
    assert_eq!(out, binary_header(0), "empty export is the 24-byte header");
    fill(&mut s, &worked());
    let out = export_bytes(&mut s, &dir, &ExportOptions::default());
    assert_eq!(out.len(), 106);
    assert_eq!(out, golden_binary_bytes());
    // includeMetadata / prettyPrint do not affect binary.
    assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Binary, false, true)), golden_binary_bytes());
    assert_eq!(s.export_to(dir.join("x"), &ExportOptions::default()).unwrap(), 2);
}

fn binary_header(count: u64) -> Vec<u8> {
    let mut h = vec![0x00, 0x4B, 0x56, 0x45, 0x56, 0x49, 0x44, 0x58, 1, 0, 0, 0, 0, 0, 0, 0];
    h.extend_from_slice(&count.to_le_bytes());
    h
}

fn golden_json<E: Engine>() {
    let dir = scratch("golden-json");
    let mut s = open::<E>(&dir, "db");
    let empty = export_bytes(&mut s, &dir, &exp(Format::Json, true, false));
    assert_eq!(empty, b"{\"format\":\"kvidx-json\",\"version\":1,\"entries\":[]}\n");
    let empty = export_bytes(&mut s, &dir, &exp(Format::Json, true, true));
    assert_eq!(empty, b"{\"format\":\"kvidx-json\",\"version\":1,\"entries\":[\n\n]}\n");
    fill(&mut s, &worked());
    for (meta, pretty, want) in [
        (true, false, JSON_COMPACT),
        (true, true, JSON_PRETTY),
        (false, false, JSON_COMPACT_PLAIN),
        (false, true, JSON_PRETTY_PLAIN),
    ] {
        let got = export_bytes(&mut s, &dir, &exp(Format::Json, meta, pretty));
        assert_eq!(String::from_utf8_lossy(&got), want, "meta {meta} pretty {pretty}");
        assert_eq!(got, want.as_bytes());
    }
    // §9 item 48: compact without metadata is smaller than pretty with.
    assert!(JSON_COMPACT_PLAIN.len() < JSON_PRETTY.len());
}

fn golden_csv<E: Engine>() {
    let dir = scratch("golden-csv");
    let mut s = open::<E>(&dir, "db");
    assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Csv, true, false)), b"key,term,cmd,data\n");
    assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Csv, false, false)), b"key,data\n");
    fill(&mut s, &worked());
    assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Csv, true, false)), CSV_META);
    assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Csv, false, true)), CSV_PLAIN);
}

/// The writers alone, on an in-memory stream.
#[test]
fn writers_in_memory() {
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()), Format::Binary, true, false).unwrap();
    for e in worked() {
        w.entry(e.key, e.term, e.cmd, &e.data).unwrap();
    }
    assert_eq!(w.count(), 2);
    assert_eq!(w.finish().unwrap().into_inner(), golden_binary_bytes());
    let mut w = Writer::new(std::io::Cursor::new(Vec::new()), Format::Json, true, true).unwrap();
    for e in worked() {
        w.entry(e.key, e.term, e.cmd, &e.data).unwrap();
    }
    assert_eq!(w.finish().unwrap().into_inner(), JSON_PRETTY.as_bytes());
    // A reader over the golden file yields the entries back.
    let golden = golden_binary_bytes();
    let mut r = Reader::new(&golden[..], Format::Binary, Some(golden.len() as u64));
    let mut got = Vec::new();
    while let Some(e) = r.next_entry().unwrap() {
        got.push(e.to_owned());
    }
    assert_eq!(got, worked());
}

fn non_utf8_encodings<E: Engine>() {
    let dir = scratch("non-utf8");
    let mut s = open::<E>(&dir, "db");
    s.insert(1, 0, 0, b"\xff\x00a").unwrap();
    s.insert(2, 0, 0, b"base64:hello").unwrap();
    s.insert(3, 0, 0, b"").unwrap();
    s.insert(4, 0, 0, b"a\x00b").unwrap();
    let json = export_bytes(&mut s, &dir, &exp(Format::Json, false, false));
    assert_eq!(
        String::from_utf8(json).unwrap(),
        concat!(
            r#"{"format":"kvidx-json","version":1,"entries":[{"key":1,"dataBase64":"/wBh"},"#,
            r#"{"key":2,"data":"base64:hello"},{"key":3,"data":""},{"key":4,"data":"a\u0000b"}]}"#,
            "\n"
        )
    );
    let csv = export_bytes(&mut s, &dir, &exp(Format::Csv, false, false));
    assert_eq!(csv, b"key,data\n1,\"base64:/wBh\"\n2,base64:hello\n3,\n4,a\x00b\n");
}

/// A CSV file exactly as the original writes it imports to exactly the
/// values it holds — also values that start with `base64:` (which an
/// earlier encoding of ours decoded) — and our export of those values is
/// the same file again, byte for byte (decisions.md G2 as amended).
fn original_csv_imports_exactly<E: Engine>() {
    let dir = scratch("original-csv");
    // What the original writes for these values: raw bytes, quoted only
    // when a value holds `,` `"` LF or CR.
    let original: &[u8] = b"key,term,cmd,data\n\
        1,5,2,base64:SGVsbG8=\n\
        2,0,0,\"base64:a,b\"\n\
        3,0,0,base64:\n\
        4,0,0,base64:not base64!\n\
        5,0,0,\"say \"\"base64:eA==\"\"\"\n\
        6,0,0,\"base64:\nSGk=\"\n\
        7,0,0,base64:Zm9v\xc3\xa9\n";
    let want = vec![
        entry(1, 5, 2, b"base64:SGVsbG8="),
        entry(2, 0, 0, b"base64:a,b"),
        entry(3, 0, 0, b"base64:"),
        entry(4, 0, 0, b"base64:not base64!"),
        entry(5, 0, 0, b"say \"base64:eA==\""),
        entry(6, 0, 0, b"base64:\nSGk="),
        entry(7, 0, 0, "base64:Zm9vé".as_bytes()),
    ];
    let f = dir.join("original.csv");
    std::fs::write(&f, original).unwrap();
    for format in [None, Some(Format::Csv)] {
        let mut s = open::<E>(&dir, &format!("db{}", format.is_some()));
        assert_eq!(s.import_from(&f, &imp(format)).unwrap(), want.len() as u64);
        assert_eq!(all(&mut s), want);
        assert_eq!(export_bytes(&mut s, &dir, &exp(Format::Csv, true, false)), original);
    }
    // Raw non-UTF-8 bytes, as the original writes them, import exactly too.
    std::fs::write(&f, b"key,data\n1,\xff\xfebase64:\n2,\"\xff,\"\n").unwrap();
    let mut s = open::<E>(&dir, "raw");
    s.import_from(&f, &imp(None)).unwrap();
    assert_eq!(all(&mut s), vec![entry(1, 0, 0, b"\xff\xfebase64:"), entry(2, 0, 0, b"\xff,")]);
    // Our encoding of non-UTF-8 values is a quoted field with none of the
    // bytes that make the original quote; any other quoted field is literal.
    std::fs::write(&f, b"key,data\n1,\"base64:/wBh\"\n2,\"plain\"\n3,\"\"\n").unwrap();
    let mut s = open::<E>(&dir, "ours");
    s.import_from(&f, &imp(None)).unwrap();
    assert_eq!(all(&mut s), vec![entry(1, 0, 0, b"\xff\x00a"), entry(2, 0, 0, b"plain"), entry(3, 0, 0, b"")]);
}

// ----------------------------------------------------------------------
// Round trips

fn tricky_entries() -> Vec<Entry> {
    let every: Vec<u8> = (0..=255u8).collect();
    let mut v = vec![
        entry(0, 0, 0, b""),
        entry(1, MAX, MAX, &every),
        entry(2, 1, 2, b"base64:"),
        entry(3, 3, 4, b"base64:Zm9v"),
        entry(4, 5, 6, "ünïcødé ✓ 😀".as_bytes()),
        entry(5, 7, 8, b"key,term,cmd,data\n"),
        entry(6, 9, 10, b"\r\n\r"),
        entry(7, 11, 12, b"\"\"\""),
        entry(8, 13, 14, b"\xc3"),
        entry(9, 15, 16, b" leading and trailing "),
        entry(10, 17, 18, b"\\u0041"),
        entry(11, 19, 20, b"{\"key\":1}"),
        entry(12, 21, 22, b","),
        entry(13, 23, 24, b"\x00"),
        entry((1 << 53) + 1, MAX - 1, 1 << 53, b"2^53+1"),
        entry(H - 1, H, H - 1, b"below"),
        entry(H, H, H, b"2^63"),
        entry(MAX - 1, 0, MAX, &every[128..]),
        entry(MAX, MAX, 0, b"max"),
    ];
    for b in 0..=255u8 {
        v.push(entry(1000 + b as u64, b as u64, 255 - b as u64, &[b]));
        v.push(entry(2000 + b as u64, 0, 0, &[b'x', b, b'y']));
    }
    v.sort_by_key(|e| e.key);
    v
}

fn round_trips<E: Engine>() {
    let dir = scratch("roundtrip");
    let mut src = open::<E>(&dir, "src");
    let entries = tricky_entries();
    fill(&mut src, &entries);
    let mut n = 0;
    for format in [Format::Binary, Format::Json, Format::Csv] {
        for meta in [true, false] {
            for pretty in [false, true] {
                for detect in [true, false] {
                    n += 1;
                    let file = dir.join(format!("rt-{n}"));
                    let opts = exp(format, meta, pretty);
                    assert_eq!(src.export_to(&file, &opts).unwrap(), entries.len() as u64);
                    let mut dst = open::<E>(&dir, &format!("dst-{n}"));
                    let fmt = if detect { None } else { Some(format) };
                    assert_eq!(dst.import_from(&file, &imp(fmt)).unwrap(), entries.len() as u64);
                    let want: Vec<Entry> = if meta || format == Format::Binary {
                        entries.clone()
                    } else {
                        entries.iter().map(|e| entry(e.key, 0, 0, &e.data)).collect()
                    };
                    let got = all(&mut dst);
                    assert_eq!(got.len(), want.len(), "{format:?} meta {meta} pretty {pretty}");
                    for (g, w) in got.iter().zip(&want) {
                        assert_eq!(g, w, "{format:?} meta {meta} pretty {pretty}");
                    }
                    assert_eq!(dst.ttl_count(), 0);
                    // Export of the import is byte-identical.
                    let again = dir.join(format!("rt-{n}-again"));
                    dst.export_to(&again, &opts).unwrap();
                    if meta || format == Format::Binary {
                        assert_eq!(std::fs::read(&file).unwrap(), std::fs::read(&again).unwrap());
                    }
                    let r = formats::validate_file(&file, None).unwrap();
                    assert_eq!(r, (format, entries.len() as u64));
                }
            }
        }
    }
}

fn big_values<E: Engine>() {
    let dir = scratch("big");
    let mut s = open::<E>(&dir, "src");
    let big: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 + i / 255) as u8).collect();
    s.insert(7, 1, 2, &big).unwrap();
    s.insert(8, 1, 2, &big[..1 << 20]).unwrap();
    for format in [Format::Binary, Format::Json, Format::Csv] {
        let f = dir.join(format!("big-{format:?}"));
        s.export_to(&f, &exp(format, true, false)).unwrap();
        let mut d = open::<E>(&dir, &format!("dst-{format:?}"));
        assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 2);
        assert_eq!(d.get(7).unwrap().unwrap().data, &big[..]);
        assert_eq!(d.get(8).unwrap().unwrap().data, &big[..1 << 20]);
    }
    // Many entries.
    let mut s = open::<E>(&dir, "many");
    s.begin().unwrap();
    for k in 0..20_000u64 {
        s.insert(k * 3, k, k + 1, format!("value {k}").as_bytes()).unwrap();
    }
    s.commit().unwrap();
    for format in [Format::Binary, Format::Json, Format::Csv] {
        let f = dir.join(format!("many-{format:?}"));
        assert_eq!(s.export_to(&f, &exp(format, true, false)).unwrap(), 20_000);
        let mut d = open::<E>(&dir, &format!("many-dst-{format:?}"));
        assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 20_000);
        assert_eq!(d.key_count().unwrap(), 20_000);
        assert_eq!(d.get(3 * 12_345).unwrap().unwrap().data, b"value 12345");
    }
}

fn range_exports<E: Engine>() {
    let dir = scratch("range");
    let mut s = open::<E>(&dir, "src");
    for k in 0..100u64 {
        s.insert(k, k, k, b"v").unwrap();
    }
    for k in [H - 2, H - 1, H, H + 1, MAX] {
        s.insert(k, 1, 1, b"high").unwrap();
    }
    for (lo, hi, want) in
        [(25u64, 75u64, 51u64), (0, MAX, 105), (H - 1, H, 2), (H, MAX, 3), (100, H - 3, 0), (80, 10, 0), (MAX, MAX, 1)]
    {
        let f = dir.join(format!("r-{lo}-{hi}"));
        let opts = ExportOptions { start: lo, end: hi, ..ExportOptions::default() };
        assert_eq!(s.export_to(&f, &opts).unwrap(), want, "[{lo}, {hi}]");
        let bytes = std::fs::read(&f).unwrap();
        assert_eq!(u64::from_le_bytes(bytes[16..24].try_into().unwrap()), want, "header count");
        let mut d = open::<E>(&dir, &format!("d-{lo}-{hi}"));
        assert_eq!(d.import_from(&f, &imp(None)).unwrap(), want);
        let keys: Vec<u64> = all(&mut d).iter().map(|e| e.key).collect();
        let expect: Vec<u64> = all(&mut s).iter().map(|e| e.key).filter(|&k| k >= lo && k <= hi).collect();
        assert_eq!(keys, expect);
    }
}

fn expired_not_exported<E: Engine>() {
    let dir = scratch("expired");
    let mut s = open::<E>(&dir, "src");
    for k in 1..=10u64 {
        s.insert(k, k, k, b"v").unwrap();
    }
    s.expire_in(3, std::time::Duration::from_millis(1)).unwrap();
    s.expire_in(7, std::time::Duration::from_millis(1)).unwrap();
    s.expire_in(9, std::time::Duration::from_millis(3_600_000)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    for format in [Format::Binary, Format::Json, Format::Csv] {
        let f = dir.join(format!("e-{format:?}"));
        assert_eq!(s.export_to(&f, &exp(format, true, false)).unwrap(), 8);
        let mut d = open::<E>(&dir, &format!("d-{format:?}"));
        assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 8);
        let keys: Vec<u64> = all(&mut d).iter().map(|e| e.key).collect();
        assert_eq!(keys, vec![1, 2, 4, 5, 6, 8, 9, 10]);
        assert_eq!(d.ttl(9).unwrap(), Ttl::Persistent, "imported entries have no TTL");
    }
    // Importing onto expired keys: they count as absent, and lose their TTL.
    let f = dir.join("all");
    let mut full = open::<E>(&dir, "full");
    for k in 1..=10u64 {
        full.insert(k, 100 + k, k, b"new").unwrap();
    }
    full.export_to(&f, &ExportOptions::default()).unwrap();
    let r = s.import_from(&f, &imp(None));
    assert_eq!(r, Err(Error::DuplicateKey(1)));
    let n = s.import_from(&f, &ImportOptions { skip_duplicates: true, ..imp(None) }).unwrap();
    assert_eq!(n, 2);
    assert_eq!(s.get(3).unwrap().unwrap().term, 103);
    assert_eq!(s.ttl(3).unwrap(), Ttl::Persistent);
    assert_eq!(s.get(4).unwrap().unwrap().term, 4);
}

// ----------------------------------------------------------------------
// Atomicity, duplicates, cancellation

fn baseline<E: Engine>(s: &mut Store<E>) {
    fill(s, &[entry(1000, 1, 1, b"keep"), entry(1001, 2, 2, b"me"), entry(5, 999, 999, b"old")]);
    s.expire_in(1001, std::time::Duration::from_millis(3_600_000)).unwrap();
}

fn duplicates<E: Engine>() {
    let dir = scratch("dups");
    let mut src = open::<E>(&dir, "src");
    for k in 1..=50u64 {
        src.insert(k, k, k, b"new").unwrap();
    }
    let f = dir.join("f.bin");
    src.export_to(&f, &ExportOptions::default()).unwrap();
    let mut s = open::<E>(&dir, "dst");
    baseline(&mut s);
    let before = snapshot(&mut s);
    let r = s.import_from(&f, &imp(None));
    assert_eq!(r, Err(Error::DuplicateKey(5)));
    assert!(r.unwrap_err().to_string().contains('5'));
    assert_eq!(snapshot(&mut s), before, "a duplicate rolls everything back");
    // With clearBeforeImport the same file goes in and replaces everything.
    let n = s.import_from(&f, &ImportOptions { clear_before_import: true, ..imp(None) }).unwrap();
    assert_eq!(n, 50);
    assert_eq!(s.key_count().unwrap(), 50);
    assert_eq!(s.ttl_count(), 0, "clearBeforeImport clears TTLs");
    assert!(!s.exists(1000).unwrap());
    // skipDuplicates: existing keys keep their entry (§9 item 52).
    let mut s = open::<E>(&dir, "skip");
    s.insert(1, 999, 999, b"x").unwrap();
    s.insert(25, 999, 999, b"y").unwrap();
    let n = s.import_from(&f, &ImportOptions { skip_duplicates: true, ..imp(None) }).unwrap();
    assert_eq!(n, 48);
    assert_eq!(s.key_count().unwrap(), 50);
    let e = s.get(1).unwrap().unwrap();
    assert_eq!((e.term, e.cmd, e.data), (999, 999, &b"x"[..]));
    // A key repeated within the file is a duplicate the second time.
    let rep = dir.join("rep.csv");
    std::fs::write(&rep, b"key,data\n7,a\n8,b\n7,c\n").unwrap();
    let mut s = open::<E>(&dir, "rep");
    baseline(&mut s);
    let before = snapshot(&mut s);
    assert_eq!(s.import_from(&rep, &imp(None)), Err(Error::DuplicateKey(7)));
    assert_eq!(
        s.import_from(&rep, &ImportOptions { clear_before_import: true, ..imp(None) }),
        Err(Error::DuplicateKey(7))
    );
    assert_eq!(snapshot(&mut s), before, "clearBeforeImport + error leaves the database unchanged");
    assert_eq!(s.import_from(&rep, &ImportOptions { skip_duplicates: true, ..imp(None) }).unwrap(), 2);
    assert_eq!(s.get(7).unwrap().unwrap().data, b"a");
}

fn progress_and_cancel<E: Engine>() {
    let dir = scratch("progress");
    let mut src = open::<E>(&dir, "src");
    for k in 0..250u64 {
        src.insert(k, 1, 1, b"p").unwrap();
    }
    let f = dir.join("f.json");
    let mut calls = Vec::new();
    let n = src
        .export_to_with_progress(&f, &exp(Format::Json, true, false), &mut |c, t| {
            calls.push((c, t));
            true
        })
        .unwrap();
    assert_eq!(n, 250);
    assert_eq!(calls, vec![(100, 250), (200, 250), (250, 250)]);
    // Cancelled export: file removed.
    let g = dir.join("g.bin");
    let r = src.export_to_with_progress(&g, &ExportOptions::default(), &mut |c, _| c < 200);
    assert_eq!(code(r), ErrorCode::Cancelled);
    assert!(!g.exists());
    // Multiples of 100: no repeated final call; 0 entries: no call.
    let mut calls = Vec::new();
    src.export_to_with_progress(&g, &ExportOptions { end: 199, ..ExportOptions::default() }, &mut |c, t| {
        calls.push((c, t));
        true
    })
    .unwrap();
    assert_eq!(calls, vec![(100, 200), (200, 200)]);
    let mut calls = Vec::new();
    src.export_to_with_progress(&g, &ExportOptions { start: 1000, ..ExportOptions::default() }, &mut |c, t| {
        calls.push((c, t));
        true
    })
    .unwrap();
    assert!(calls.is_empty());
    // Import: progress, then cancel → unchanged.
    let mut s = open::<E>(&dir, "dst");
    baseline(&mut s);
    let before = snapshot(&mut s);
    for cancel_at in [100, 200, 250] {
        let mut calls = Vec::new();
        let r =
            s.import_from_with_progress(&f, &ImportOptions { clear_before_import: true, ..imp(None) }, &mut |c, t| {
                calls.push((c, t));
                c < cancel_at
            });
        assert_eq!(code(r), ErrorCode::Cancelled);
        assert_eq!(*calls.last().unwrap(), (cancel_at, 250));
        assert_eq!(snapshot(&mut s), before);
    }
    let mut calls = Vec::new();
    let n = s
        .import_from_with_progress(&f, &ImportOptions { skip_duplicates: true, ..imp(None) }, &mut |c, t| {
            calls.push((c, t));
            true
        })
        .unwrap();
    assert_eq!(n, 249, "key 5 of the baseline is skipped");
    assert_eq!(calls, vec![(100, 250), (200, 250), (250, 250)]);
}

/// Progress is reported while the work proceeds, not after it: during an
/// export the callbacks see the file still growing; during an import they
/// are spread over the inserting, not bunched before it.
fn progress_while_working<E: Engine>() {
    use std::time::Instant;
    let dir = scratch("progress-live");
    let mut src = open::<E>(&dir, "src");
    let n = 20_000u64;
    let value = vec![7u8; 1000];
    let out = src.insert_batch((0..n).map(|k| kvidxkit::EntryRef { key: k, term: k, cmd: 0, data: &value }));
    assert!(out.error.is_none());
    let f = dir.join("live.bin");
    let mut sizes = Vec::new();
    src.export_to_with_progress(&f, &ExportOptions::default(), &mut |c, t| {
        assert_eq!(t, n);
        sizes.push((c, std::fs::metadata(&f).map(|m| m.len()).unwrap_or(0)));
        true
    })
    .unwrap();
    let full = std::fs::metadata(&f).unwrap().len();
    assert_eq!(sizes.len() as u64, n / 100);
    let growing = sizes.iter().filter(|(_, len)| *len < full).count();
    assert!(growing * 2 > sizes.len(), "{growing} of {} callbacks saw the file still growing", sizes.len());
    assert!(sizes.windows(2).all(|w| w[0].1 <= w[1].1), "file size went backwards");
    // Cancelling halfway stops at once: no further call, no file.
    let mut calls = 0;
    let r = src.export_to_with_progress(&f, &ExportOptions::default(), &mut |c, _| {
        calls += 1;
        c < n / 2
    });
    assert_eq!(code(r), ErrorCode::Cancelled);
    assert_eq!(calls, n / 200);
    assert!(!f.exists());

    src.export_to(&f, &ExportOptions::default()).unwrap();
    let mut dst = open::<E>(&dir, "dst");
    let start = Instant::now();
    let mut times = Vec::new();
    dst.import_from_with_progress(&f, &ImportOptions::default(), &mut |_, _| {
        times.push(start.elapsed());
        true
    })
    .unwrap();
    assert_eq!(times.len() as u64, n / 100);
    // Validation takes a fraction of the time; the callbacks follow the
    // inserting (the commit that follows the last one is not reported).
    let (first, last) = (times[0], *times.last().unwrap());
    assert!(last - first > last / 2, "callbacks bunched: first at {first:?}, last at {last:?}");
}

fn inside_transaction<E: Engine>() {
    let dir = scratch("txn");
    let mut src = open::<E>(&dir, "src");
    for k in 0..10u64 {
        src.insert(k, 1, 1, b"t").unwrap();
    }
    let f = dir.join("f.bin");
    src.export_to(&f, &ExportOptions::default()).unwrap();
    let mut s = open::<E>(&dir, "dst");
    s.begin().unwrap();
    s.insert(100, 1, 1, b"in txn").unwrap();
    // The export inside the transaction sees its own writes.
    let g = dir.join("g.bin");
    assert_eq!(s.export_to(&g, &ExportOptions::default()).unwrap(), 1);
    // A failing import inside the transaction rolls back only itself.
    s.insert(5, 9, 9, b"dup").unwrap();
    assert_eq!(s.import_from(&f, &imp(None)), Err(Error::DuplicateKey(5)));
    assert!(s.in_transaction());
    assert_eq!(all(&mut s).len(), 2);
    assert_eq!(s.import_from(&f, &ImportOptions { skip_duplicates: true, ..imp(None) }).unwrap(), 9);
    assert_eq!(s.key_count().unwrap(), 11);
    let rep = dir.join("rep.csv");
    std::fs::write(&rep, b"key,data\n70,a\n70,b\n").unwrap();
    let before = snapshot(&mut s);
    assert_eq!(
        s.import_from(&rep, &ImportOptions { clear_before_import: true, ..imp(None) }),
        Err(Error::DuplicateKey(70))
    );
    assert!(s.in_transaction());
    assert_eq!(snapshot(&mut s), before);
    s.abort().unwrap();
    assert_eq!(s.key_count().unwrap(), 0, "the import was part of the aborted transaction");
}

// ----------------------------------------------------------------------
// Hostile files

/// Imports `bytes` (auto-detected and with `format`) with clearBeforeImport
/// into a populated store: must fail with `want` and change nothing.
fn must_fail<E: Engine>(
    s: &mut Store<E>,
    dir: &Path,
    bytes: &[u8],
    format: Option<Format>,
    want: ErrorCode,
    what: &str,
) {
    let f = dir.join("hostile");
    std::fs::write(&f, bytes).unwrap();
    let before = snapshot(s);
    for fmt in [None, format] {
        let r = s.import_from(&f, &ImportOptions { clear_before_import: true, ..imp(fmt) });
        match r {
            Err(e) => assert_eq!(e.code(), want, "{what} ({fmt:?}): {e}"),
            Ok(n) => panic!("{what} ({fmt:?}): imported {n} entries"),
        }
        assert!(formats::validate_file(&f, fmt).is_err());
    }
    assert_eq!(snapshot(s), before, "{what}: database changed");
}

fn message<E: Engine>(s: &mut Store<E>, dir: &Path, bytes: &[u8]) -> String {
    let f = dir.join("msg");
    std::fs::write(&f, bytes).unwrap();
    s.import_from(&f, &imp(None)).unwrap_err().to_string()
}

fn with_count(file: &[u8], count: u64) -> Vec<u8> {
    let mut v = file.to_vec();
    v[16..24].copy_from_slice(&count.to_le_bytes());
    v
}

fn hostile_binary<E: Engine>() {
    let dir = scratch("hostile-bin");
    let mut s = open::<E>(&dir, "db");
    baseline(&mut s);
    let good = golden_binary_bytes();
    let c = ErrorCode::Corrupt;
    let b = Some(Format::Binary);
    let mut bad_magic = good.clone();
    bad_magic[1] = b'X';
    must_fail(&mut s, &dir, &bad_magic, b, c, "bad magic");
    let mut v2 = good.clone();
    v2[8] = 2;
    must_fail(&mut s, &dir, &v2, b, c, "version 2");
    assert!(message(&mut s, &dir, &v2).contains("version 2"));
    must_fail(&mut s, &dir, &with_count(&good, 3), b, c, "count too large");
    must_fail(&mut s, &dir, &with_count(&good, 1), b, c, "count too small (extra bytes)");
    must_fail(&mut s, &dir, &with_count(&good, 0), b, c, "count zero with entries");
    must_fail(&mut s, &dir, &with_count(&good, MAX), b, c, "count 2^64-1");
    must_fail(&mut s, &dir, &with_count(&good, 1 << 60), b, c, "count 2^60");
    let mut huge = good.clone();
    huge[48..56].copy_from_slice(&(1u64 << 60).to_le_bytes());
    must_fail(&mut s, &dir, &huge, b, c, "length 2^60");
    assert!(message(&mut s, &dir, &huge).contains("offset 48"), "{}", message(&mut s, &dir, &huge));
    let mut huge = good.clone();
    huge[48..56].copy_from_slice(&MAX.to_le_bytes());
    must_fail(&mut s, &dir, &huge, b, c, "length 2^64-1");
    let mut longer = good.clone();
    longer[48..56].copy_from_slice(&3u64.to_le_bytes());
    must_fail(&mut s, &dir, &longer, b, c, "length one too many");
    let mut extra = good.clone();
    extra.push(0);
    must_fail(&mut s, &dir, &extra, b, c, "a trailing byte");
    assert!(message(&mut s, &dir, &extra).contains("offset 106"));
    // Reserved field is ignored.
    let mut reserved = good.clone();
    reserved[12] = 7;
    let f = dir.join("reserved");
    std::fs::write(&f, &reserved).unwrap();
    let mut d = open::<E>(&dir, "reserved-db");
    assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 2);
    // Garbage and empty files.
    must_fail(&mut s, &dir, b"", b, c, "empty file");
    must_fail(&mut s, &dir, b"\x00", b, c, "one byte");
    must_fail(&mut s, &dir, b"garbage garbage garbage garbage", b, c, "garbage");
    must_fail(&mut s, &dir, &[0xFF; 300], b, c, "0xFF bytes");
    assert!(message(&mut s, &dir, &good[..10]).contains("truncated"));
}

fn hostile_json<E: Engine>() {
    let dir = scratch("hostile-json");
    let mut s = open::<E>(&dir, "db");
    baseline(&mut s);
    let j = Some(Format::Json);
    let c = ErrorCode::Corrupt;
    let doc = |entries: &str| format!(r#"{{"format":"kvidx-json","version":1,"entries":[{entries}]}}"#);
    let cases: Vec<(String, &str)> = vec![
        (r#"{"format":"kvidx-json","entries":[]}"#.into(), "no version"),
        (r#"{"version":1,"entries":[]}"#.into(), "no format"),
        (r#"{"format":"kvidx-json","version":1}"#.into(), "no entries"),
        (r#"{"format":"kvidx-json","version":2,"entries":[]}"#.into(), "version 2"),
        (r#"{"format":"other","version":1,"entries":[]}"#.into(), "other format"),
        (r#"{"format":"kvidx-json","version":1,"version":1,"entries":[]}"#.into(), "repeated member"),
        (r#"{"format":"kvidx-json","version":1,"entries":[],"x":1}"#.into(), "unknown member"),
        (r#"{"format":"kvidx-json","version":1,"entries":[],}"#.into(), "trailing comma"),
        (format!("{} x", doc("")), "trailing garbage"),
        (format!("{}{{}}", doc("")), "two documents"),
        (doc(r#"{"key":1}"#), "no data"),
        (doc(r#"{"data":"x"}"#), "no key"),
        (doc(r#"{"key":-1,"data":"x"}"#), "negative key"),
        (doc(r#"{"key":1.0,"data":"x"}"#), "fractional key"),
        (doc(r#"{"key":1e3,"data":"x"}"#), "exponent"),
        (doc(r#"{"key":01,"data":"x"}"#), "leading zero"),
        (doc(r#"{"key":18446744073709551616,"data":"x"}"#), "2^64"),
        (doc(r#"{"key":"1","data":"x"}"#), "quoted key"),
        (doc(r#"{"key":1,"data":"x","data":"y"}"#), "two data"),
        (doc(r#"{"key":1,"data":"x","dataBase64":"eA=="}"#), "data and dataBase64"),
        (doc(r#"{"key":1,"dataBase64":"eA="}"#), "bad base64"),
        (doc(r#"{"key":1,"dataBase64":"e A=="}"#), "base64 with space"),
        (doc(r#"{"key":1,"data":"\x"}"#), "bad escape"),
        (doc(r#"{"key":1,"data":"\ud800"}"#), "lone high surrogate"),
        (doc(r#"{"key":1,"data":"\udc00"}"#), "lone low surrogate"),
        (doc(r#"{"key":1,"data":"\u12"}"#), "short \\u"),
        (doc("{\"key\":1,\"data\":\"a\nb\"}"), "raw LF in string"),
        (doc("{\"key\":1,\"data\":\"a\u{0}b\"}"), "raw NUL in string"),
        (doc(r#"{"key":1,"data":"x",}"#), "trailing comma in entry"),
        (doc(r#"{"key":1,"data":"x"},"#), "trailing comma in array"),
        (doc(r#"{"key":1,"data":"x"} {"key":2,"data":"y"}"#), "missing comma"),
        (doc(r#"{"key":1,"data":"x","extra":true}"#), "unknown entry member"),
        (doc(r#"{"key":1,"data":null}"#), "null data"),
        (doc("[]"), "array entry"),
        ("{".into(), "just a brace"),
        (" \n {\"format\"\u{0}".into(), "NUL between tokens"),
    ];
    for (text, what) in &cases {
        must_fail(&mut s, &dir, text.as_bytes(), j, c, what);
    }
    let m =
        message(&mut s, &dir, "{\"format\":\"kvidx-json\",\n\"version\":1,\n\"entries\":[\n{\"key\":-1}]}".as_bytes());
    assert!(m.contains("line 4"), "{m}");
    // Accepted: any member order, whitespace, missing term/cmd, escapes,
    // numbers beyond 2^53, raw non-UTF-8 bytes as written by the original.
    let f = dir.join("ok.json");
    let mut text = b"\n\t{ \"entries\" : [ {\"data\":\"\\u00e9\\/\\ud83d\\ude00\", \"key\" : 9007199254740993, \"cmd\":18446744073709551615},\r\n".to_vec();
    text.extend_from_slice(b"{\"key\":2,\"data\":\"\xff\xfe\"} ] , \"version\":1, \"format\":\"kvidx-json\" }\n\n");
    std::fs::write(&f, &text).unwrap();
    let mut d = open::<E>(&dir, "ok");
    assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 2);
    assert_eq!(all(&mut d), vec![entry(2, 0, 0, b"\xff\xfe"), entry(9007199254740993, 0, MAX, "é/😀".as_bytes())]);
}

fn hostile_csv<E: Engine>() {
    let dir = scratch("hostile-csv");
    let mut s = open::<E>(&dir, "db");
    baseline(&mut s);
    let v = Some(Format::Csv);
    let c = ErrorCode::Corrupt;
    let cases: &[(&[u8], &str)] = &[
        (b"", "empty"),
        (b"key,term,cmd\n", "bad header"),
        (b"key,term,cmd,data", "header without line end"),
        (b"KEY,DATA\n", "header case"),
        (b"key,data\n1\n", "too few fields"),
        (b"key,data\n1,a,b\n", "too many fields"),
        (b"key,term,cmd,data\n1,2,a\n", "too few fields (meta)"),
        (b"key,data\n1,a", "no final line end"),
        (b"key,data\n1,\"a", "unterminated quote"),
        (b"key,data\n1,\"a\"b\n", "text after a closing quote"),
        (b"key,data\n1,a\"b\n", "stray quote"),
        (b"key,data\n1,a\rb\n", "bare CR"),
        (b"key,data\n-1,a\n", "negative key"),
        (b"key,data\n 1,a\n", "space in key"),
        (b"key,data\n,a\n", "empty key"),
        (b"key,data\n18446744073709551616,a\n", "2^64"),
        (b"key,data\n1\x00,a\n", "NUL in key"),
        (b"key,data\n1,\"base64:abc\"\n", "bad base64"),
        (b"key,data\n1,\"base64:YW=\"\n", "bad base64 padding"),
        (b"key,data\n1,x\n\n", "blank line"),
        (b"key,term,cmd,data\n1,2,3,x,\n", "trailing comma"),
    ];
    for (bytes, what) in cases {
        must_fail(&mut s, &dir, bytes, v, c, what);
    }
    let m = message(&mut s, &dir, b"key,data\n1,\"a\nb\"\n2,x\n3,y,z\n");
    assert!(m.contains("line 5"), "{m}");
    // Accepted: CRLF line ends, quoted numbers, leading zeros, NUL and raw
    // non-UTF-8 bytes in values (as the original writes them).
    let f = dir.join("ok.csv");
    std::fs::write(&f, b"key,term,cmd,data\r\n\"1\",007,3,\"a,b\"\r\n2,0,0,\x00\xff\r\n3,0,0,\n").unwrap();
    let mut d = open::<E>(&dir, "ok");
    assert_eq!(d.import_from(&f, &imp(None)).unwrap(), 3);
    assert_eq!(all(&mut d), vec![entry(1, 7, 3, b"a,b"), entry(2, 0, 0, b"\x00\xff"), entry(3, 0, 0, b"")]);
}

fn bad_paths<E: Engine>() {
    let dir = scratch("paths");
    let mut s = open::<E>(&dir, "db");
    baseline(&mut s);
    let before = snapshot(&mut s);
    // §9 item 54.
    assert_eq!(code(s.export_to("/nonexistent/dir/file.bin", &ExportOptions::default())), ErrorCode::Io);
    assert_eq!(code(s.import_from(dir.join("missing"), &imp(None))), ErrorCode::Io);
    // A directory.
    let sub = dir.join("sub");
    std::fs::create_dir(&sub).unwrap();
    assert_eq!(code(s.import_from(&sub, &imp(None))), ErrorCode::Io);
    assert_eq!(code(s.export_to(&sub, &ExportOptions::default())), ErrorCode::Io);
    assert!(sub.is_dir(), "a failed export never removes what it did not create");
    // A FIFO: no hang, and left in place.
    let fifo = dir.join("fifo");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    let t = std::time::Instant::now();
    let e = s.import_from(&fifo, &imp(None)).unwrap_err();
    assert_eq!(e.code(), ErrorCode::Io);
    assert!(e.to_string().contains("FIFO"), "{e}");
    assert_eq!(code(s.export_to(&fifo, &exp(Format::Json, true, false))), ErrorCode::Io);
    assert!(t.elapsed() < std::time::Duration::from_secs(5));
    assert!(std::fs::symlink_metadata(&fifo).is_ok());
    assert_eq!(snapshot(&mut s), before);
    // Export overwrites an existing file.
    let f = dir.join("existing");
    std::fs::write(&f, vec![b'z'; 10_000]).unwrap();
    s.export_to(&f, &exp(Format::Csv, false, false)).unwrap();
    assert!(std::fs::read(&f).unwrap().starts_with(b"key,data\n5,old\n"));
    // A device is refused (IO) and left alone.
    if Path::new("/dev/full").exists() {
        assert_eq!(code(s.export_to("/dev/full", &ExportOptions::default())), ErrorCode::Io);
        assert!(Path::new("/dev/full").exists());
    }
}

/// Every proper prefix of a valid file fails cleanly and changes nothing,
/// except — for CSV, which has no entry count — prefixes ending exactly at a
/// line end, and for JSON the document without its final newline: those are
/// valid files with the entries before the cut.
fn truncation_sweep<E: Engine>() {
    let dir = scratch("truncate");
    let mut src = open::<E>(&dir, "src");
    let entries = vec![
        entry(1, 5, 2, b"hi"),
        entry(300, 6, 0, b"say \"x\",\n\x01\x7f\xc3\xa9/\\\t"),
        entry(H, MAX, 7, b"\xff\x00bin"),
        entry(MAX, 1, 1, b""),
    ];
    fill(&mut src, &entries);
    let mut s = open::<E>(&dir, "dst");
    baseline(&mut s);
    let before = snapshot(&mut s);
    let f = dir.join("prefix");
    for (format, pretty) in [(Format::Binary, false), (Format::Json, false), (Format::Json, true), (Format::Csv, false)]
    {
        let full_path = dir.join("full");
        src.export_to(&full_path, &exp(format, true, pretty)).unwrap();
        let full = std::fs::read(&full_path).unwrap();
        let mut accepted = 0;
        for len in 0..full.len() {
            let prefix = &full[..len];
            std::fs::write(&f, prefix).unwrap();
            let valid_prefix = match format {
                Format::Binary => false,
                Format::Json => len == full.len() - 1,
                Format::Csv => {
                    len > 0 && prefix.ends_with(b"\n") && {
                        // A line end that is not inside a quoted value.
                        prefix.iter().filter(|&&b| b == b'"').count() % 2 == 0
                    }
                }
            };
            for fmt in [None, Some(format)] {
                let opts = ImportOptions { clear_before_import: true, ..imp(fmt) };
                let r = s.import_from(&f, &opts);
                if valid_prefix {
                    let n = r.unwrap_or_else(|e| panic!("{format:?} prefix {len} should be valid: {e}"));
                    let got = all(&mut s);
                    assert_eq!(got.len() as u64, n);
                    assert_eq!(got, entries[..n as usize].to_vec());
                    // Restore.
                    s.remove_range(0..=MAX).unwrap();
                    baseline(&mut s);
                    accepted += 1;
                } else {
                    let e = r.expect_err(&format!("{format:?} prefix {len} of {} must fail", full.len()));
                    assert!(matches!(e.code(), ErrorCode::Corrupt | ErrorCode::Io), "{format:?} prefix {len}: {e}");
                }
                assert_eq!(snapshot(&mut s), before, "{format:?} prefix {len}");
            }
        }
        match format {
            Format::Binary => assert_eq!(accepted, 0),
            Format::Json => assert_eq!(accepted, 2),
            Format::Csv => assert_eq!(accepted, 2 * (entries.len())),
        }
    }
}

fn detection<E: Engine>() {
    assert_eq!(formats::detect(b"\x00KVEVIDX\x01"), Format::Binary);
    assert_eq!(formats::detect(b"\x00KV"), Format::Binary);
    assert_eq!(formats::detect(b"  \n{"), Format::Json);
    assert_eq!(formats::detect(b"key,data"), Format::Csv);
    assert_eq!(formats::detect(b""), Format::Csv);
    let dir = scratch("detect");
    let mut src = open::<E>(&dir, "src");
    fill(&mut src, &worked());
    // JSON with a long run of leading whitespace.
    let f = dir.join("ws.json");
    let mut text = vec![b' '; 10_000];
    text.extend_from_slice(JSON_COMPACT.as_bytes());
    std::fs::write(&f, &text).unwrap();
    assert_eq!(formats::validate_file(&f, None).unwrap(), (Format::Json, 2));
    // Explicit format mismatch: a JSON file read as CSV fails.
    let mut d = open::<E>(&dir, "d");
    assert_eq!(code(d.import_from(&f, &imp(Some(Format::Csv)))), ErrorCode::Corrupt);
    assert_eq!(d.import_from(&f, &imp(Some(Format::Json))).unwrap(), 2);
}

#[test]
fn base64_vectors() {
    for (raw, enc) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
    ] {
        assert_eq!(base64::encode(raw.as_bytes()), enc);
        let mut out = Vec::new();
        base64::decode_into(enc.as_bytes(), &mut out).unwrap();
        assert_eq!(out, raw.as_bytes());
    }
    let mut out = Vec::new();
    for bad in ["Zg=", "Zh==", "Z===", "Zg==Zg==", "Zm9*", "Zm 9", "====", "Zm9v\n"] {
        assert!(base64::decode_into(bad.as_bytes(), &mut out).is_err(), "{bad}");
    }
    let every: Vec<u8> = (0..=255u8).collect();
    base64::decode_into(base64::encode(&every).as_bytes(), &mut out).unwrap();
    assert_eq!(out, every);
}

macro_rules! engine_tests {
    ($modname:ident, $engine:ty; $($name:ident),* $(,)?) => {
        mod $modname {
            $(
                #[test]
                fn $name() {
                    super::$name::<$engine>()
                }
            )*
        }
    };
}

/// Every engine runs every test unchanged.
macro_rules! all_engine_tests {
    ($modname:ident, $engine:ty) => {
        engine_tests!($modname, $engine;
            golden_binary, golden_json, golden_csv, non_utf8_encodings, original_csv_imports_exactly,
            round_trips, big_values, range_exports, expired_not_exported,
            duplicates, progress_and_cancel, progress_while_working, inside_transaction,
            hostile_binary, hostile_json, hostile_csv, bad_paths, truncation_sweep, detection,
        );
    };
}

#[cfg(feature = "sqlite")]
all_engine_tests!(sqlite, kvidxkit::Sqlite);
#[cfg(feature = "lmdb")]
all_engine_tests!(lmdb, kvidxkit::Lmdb);
#[cfg(feature = "rocksdb")]
all_engine_tests!(rocksdb, kvidxkit::engines::Rocksdb);
