//! Benchmark: the server's shared-code path against bare yrs, and memory per open document.
//!
//! A synthetic editing trace is generated with a fixed seed: two people typing at their own
//! cursors in one file (80 % single characters, 12 % backspaces, 5 % pasted lines, 3 % cursor
//! jumps), each seeing the other's edits a few keystrokes late, as over a network. The server
//! receives every keystroke's update in the order they were made.
//! - apply ratio: the server's `SharedDoc::apply` (the strict check, then yrs) over the whole
//!   trace, divided by decoding and applying the same updates to a bare yrs `Doc`;
//! - memory: resident memory of 500 documents each holding a 2,000-keystroke session, per
//!   document.
//!
//! Run: `cargo run --release -p app --features ssr --example pair_apply`.

// A benchmark over a generated trace: if the trace does not apply, stopping with the reason is
// the right outcome.
#![allow(clippy::expect_used)]

use std::time::Instant;

use app::rooms::code::doc::{ROOT, SharedDoc};
use yrs::{
    ClientID, Doc, GetString, OffsetKind, Options, Text, TextRef, Transact, Update,
    updates::decoder::Decode,
};

struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

struct Typist {
    doc: Doc,
    text: TextRef,
    cursor: u32,
    /// Updates from the other person not yet seen (network delay).
    inbox: std::collections::VecDeque<Vec<u8>>,
}

impl Typist {
    fn new(id: u64) -> Self {
        let doc = Doc::with_options(Options {
            client_id: ClientID::new(id),
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let text = doc.get_or_insert_text(ROOT);
        Typist {
            doc,
            text,
            cursor: 0,
            inbox: Default::default(),
        }
    }

    fn keystroke(&mut self, rng: &mut Lcg) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        let len = self.text.len(&txn);
        self.cursor = self.cursor.min(len);
        match rng.below(100) {
            0..80 => {
                const KEYS: &[u8] = b"abcdefghijklmnopqrstuvwxyz    (){};=.,\n";
                let k = KEYS[rng.below(KEYS.len() as u64) as usize] as char;
                self.text.insert(&mut txn, self.cursor, &k.to_string());
                self.cursor += 1;
            }
            80..92 if self.cursor > 0 => {
                self.text.remove_range(&mut txn, self.cursor - 1, 1);
                self.cursor -= 1;
            }
            92..97 => {
                let line = "    let total = items.iter().map(|x| x.price).sum::<u32>();\n";
                self.text.insert(&mut txn, self.cursor, line);
                self.cursor += line.len() as u32;
            }
            _ => self.cursor = rng.below(u64::from(len) + 1) as u32,
        }
        txn.encode_update_v1()
    }

    fn receive(&mut self, deliver: usize) {
        while self.inbox.len() > deliver {
            if let Some(u) = self.inbox.pop_front()
                && let Ok(u) = Update::decode_v1(&u)
            {
                let _ = self.doc.transact_mut().apply_update(u);
            }
        }
    }
}

/// `n` keystroke updates, in the order the server receives them.
fn trace(seed: u64, n: usize) -> Vec<Vec<u8>> {
    let mut rng = Lcg(seed);
    let mut people = [Typist::new(1001), Typist::new(2002)];
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        let who = rng.below(2) as usize;
        // Each sees the other's keystrokes up to 3 behind.
        let lag = rng.below(4) as usize;
        people[who].receive(lag);
        let u = people[who].keystroke(&mut rng);
        people[1 - who].inbox.push_back(u.clone());
        out.push(u);
    }
    out
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn main() {
    let updates = trace(20261127, 20_000);
    let bytes: usize = updates.iter().map(Vec::len).sum();
    let (mut bare_ms, mut server_ms) = (Vec::new(), Vec::new());
    let mut text = String::new();
    for _ in 0..7 {
        let t = Instant::now();
        let doc = Doc::with_options(Options {
            offset_kind: OffsetKind::Utf16,
            ..Options::default()
        });
        let root = doc.get_or_insert_text(ROOT);
        for u in &updates {
            let u = Update::decode_v1(u).expect("decodes");
            doc.transact_mut().apply_update(u).expect("applies");
        }
        bare_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let bare_text = root.get_string(&doc.transact());

        let t = Instant::now();
        let mut shared = SharedDoc::default();
        for u in &updates {
            shared.apply(u).expect("the server accepts an honest trace");
        }
        server_ms.push(t.elapsed().as_secs_f64() * 1e3);
        text = shared.text();
        assert_eq!(text, bare_text, "both paths make the same text");
    }
    let (bare, server) = (median(bare_ms), median(server_ms));
    println!(
        "pair apply: 20,000-keystroke trace ({} KiB of updates, final text {} chars): bare yrs {:.1} ms, server path {:.1} ms, ratio {:.2}",
        bytes / 1024,
        text.chars().count(),
        bare,
        server,
        server / bare
    );

    let session = trace(7, 2_000);
    let before = rss_kib();
    let docs: Vec<SharedDoc> = (0..500)
        .map(|_| {
            let mut d = SharedDoc::default();
            for u in &session {
                d.apply(u).expect("applies");
            }
            d
        })
        .collect();
    let after = rss_kib();
    let snapshot = docs[0].snapshot().len();
    println!(
        "pair memory: 500 open documents of a 2,000-keystroke session ({} chars, snapshot {} B): {:.1} KiB each",
        docs[0].text().chars().count(),
        snapshot,
        (after.saturating_sub(before)) as f64 / 500.0
    );
}
