//! The server's copy of a room's shared code (server only): applies clients' updates after
//! [`check_text_update`], answers a client's state vector with what it lacks, and writes a
//! snapshot a late joiner (or a restarted server) loads in one step.

use yrs::{
    ClientID, Doc, GetString, OffsetKind, Options, ReadTxn, StateVector, Text, TextRef, Transact,
    Update,
    updates::{decoder::Decode, encoder::Encode},
};

use crate::rooms::code::validate::{Checked, Refused, check_text_update};

/// The shared text's name in the document (the client binds the same name).
pub const ROOT: &str = "code";
/// The largest update accepted in one message; a whole pasted file fits many times over.
pub const MAX_UPDATE_BYTES: usize = 256 * 1024;
/// The largest stored snapshot loaded (a whole document, with its deletion history).
pub const MAX_STORED_BYTES: usize = 64 * 1024 * 1024;
/// The largest document kept (characters of text, deleted history garbage-collected).
pub const MAX_TEXT_CHARS: u32 = 1_000_000;

/// The refusal of an update that made the document too large (it was applied in memory:
/// the caller drops that copy and reloads the stored one).
pub const TOO_LARGE: Refused = Refused("the document is too large");

pub struct SharedDoc {
    doc: Doc,
    text: TextRef,
}

impl std::fmt::Debug for SharedDoc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedDoc").finish_non_exhaustive()
    }
}

fn new_doc() -> (Doc, TextRef) {
    // UTF-16 offsets, as JavaScript's Y.Text counts them.
    let doc = Doc::with_options(Options {
        offset_kind: OffsetKind::Utf16,
        ..Options::default()
    });
    let text = doc.get_or_insert_text(ROOT);
    (doc, text)
}

impl Default for SharedDoc {
    fn default() -> Self {
        let (doc, text) = new_doc();
        SharedDoc { doc, text }
    }
}

impl SharedDoc {
    /// A document from a stored snapshot (written by [`SharedDoc::snapshot`]); stored bytes
    /// pass the same check as a client's, so a damaged row cannot reach the library either.
    /// A snapshot may be larger than one client update (a whole day's document).
    pub fn from_snapshot(snapshot: &[u8]) -> Result<Self, Refused> {
        let mut d = SharedDoc::default();
        if !snapshot.is_empty() {
            d.check_within(snapshot, MAX_STORED_BYTES)?;
            d.apply_checked(snapshot)?;
        }
        Ok(d)
    }

    /// Checks a client's update against this document without applying it: what it brings.
    pub fn check(&self, update: &[u8]) -> Result<Checked, Refused> {
        self.check_within(update, MAX_UPDATE_BYTES)
    }

    fn check_within(&self, update: &[u8], cap: usize) -> Result<Checked, Refused> {
        if update.len() > cap {
            return Err(Refused("the change is too large; send it in smaller parts"));
        }
        let sv = self.doc.transact().state_vector();
        check_text_update(update, ROOT, &|c| u64::from(sv.get(&ClientID::new(c))))
    }

    /// Applies an update that passed [`SharedDoc::check`] against this document as it is.
    pub fn apply_checked(&mut self, update: &[u8]) -> Result<(), Refused> {
        let decoded =
            Update::decode_v1(update).map_err(|_| Refused("the update does not decode"))?;
        let mut txn = self.doc.transact_mut();
        txn.apply_update(decoded)
            .map_err(|_| Refused("the update does not fit the document"))?;
        if self.text.len(&txn) > MAX_TEXT_CHARS {
            // Too late to take it back (applying is not atomic), but the room stops growing:
            // the caller drops this copy and reloads the stored one.
            return Err(TOO_LARGE);
        }
        Ok(())
    }

    /// Checks and applies a client's update. On success the same bytes are what to relay.
    pub fn apply(&mut self, update: &[u8]) -> Result<(), Refused> {
        self.check(update)?;
        self.apply_checked(update)
    }

    /// What a client whose state vector is `client_sv` (v1-encoded) is missing.
    pub fn missing_for(&self, client_sv: &[u8]) -> Result<Vec<u8>, Refused> {
        crate::rooms::code::validate::check_state_vector(client_sv)?;
        let sv = StateVector::decode_v1(client_sv)
            .map_err(|_| Refused("the state vector does not decode"))?;
        // `encode_diff_v1`, not `encode_state_as_update_v1`: the latter merges pending data
        // and can panic; nothing is ever pending here, but the safe one costs nothing.
        Ok(self.doc.transact().encode_diff_v1(&sv))
    }

    pub fn state_vector(&self) -> Vec<u8> {
        self.doc.transact().state_vector().encode_v1()
    }

    /// The whole document as one update (deleted text garbage-collected): the compacted form.
    pub fn snapshot(&self) -> Vec<u8> {
        self.doc.transact().encode_diff_v1(&StateVector::default())
    }

    pub fn text(&self) -> String {
        self.text.get_string(&self.doc.transact())
    }

    /// Types `text` at the end as one edit; returns its update (`pairwise seed-room` builds a
    /// benchmark room's log keystroke by keystroke with it).
    pub fn type_at_end(&mut self, text: &str) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        let len = self.text.len(&txn);
        self.text.insert(&mut txn, len, text);
        txn.encode_update_v1()
    }

    /// Writes `text` as the server's own edit (seeding a session from an exercise); returns
    /// the update to send to the clients.
    pub fn replace_text(&mut self, text: &str) -> Vec<u8> {
        let mut txn = self.doc.transact_mut();
        let len = self.text.len(&txn);
        self.text.remove_range(&mut txn, 0, len);
        self.text.insert(&mut txn, 0, text);
        txn.encode_update_v1()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A client as a browser runs it: its own document and, while offline, a queue of its
    /// unsent changes (Yjs resends them as one diff on reconnect).
    struct Client {
        doc: Doc,
        text: TextRef,
        online: bool,
    }

    impl Client {
        fn new(id: u64) -> Self {
            let doc = Doc::with_options(Options {
                client_id: ClientID::new(id),
                offset_kind: OffsetKind::Utf16,
                ..Options::default()
            });
            let text = doc.get_or_insert_text(ROOT);
            Client {
                doc,
                text,
                online: true,
            }
        }
        fn text(&self) -> String {
            self.text.get_string(&self.doc.transact())
        }
        fn apply(&self, update: &[u8]) {
            let u = Update::decode_v1(update).unwrap();
            self.doc.transact_mut().apply_update(u).unwrap();
        }
        /// SyncStep1/SyncStep2 both ways, as on connecting; returns what the server relays
        /// to the others (the changes it had not seen).
        fn sync(&self, server: &mut SharedDoc) -> Vec<u8> {
            let sv = self.doc.transact().state_vector().encode_v1();
            self.apply(&server.missing_for(&sv).unwrap());
            let server_sv = StateVector::decode_v1(&server.state_vector()).unwrap();
            let mine = self.doc.transact().encode_diff_v1(&server_sv);
            server.apply(&mine).unwrap();
            mine
        }
    }

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn below(&mut self, n: u64) -> u64 {
            if n == 0 { 0 } else { self.next() % n }
        }
    }

    fn random_edit(rng: &mut Rng, c: &Client) -> Vec<u8> {
        let mut txn = c.doc.transact_mut();
        let len = c.text.len(&txn);
        if len > 0 && rng.below(3) == 0 {
            let at = rng.below(u64::from(len)) as u32;
            let n = (1 + rng.below(4) as u32).min(len - at);
            c.text.remove_range(&mut txn, at, n);
        } else {
            // Editors never split a surrogate pair, so neither does this (no astral chars).
            let words = ["fn ", "let x = 1;", "\n", "你好", "é", "}", "{", "a"];
            let w = words[rng.below(words.len() as u64) as usize];
            let at = rng.below(u64::from(len) + 1) as u32;
            c.text.insert(&mut txn, at, w);
        }
        txn.encode_update_v1()
    }

    /// Several clients edit at once, drop off, keep typing, come back; every edit travels
    /// through the server (checked there); at the end all texts are identical.
    #[test]
    fn random_concurrent_editing_with_disconnects_converges_everywhere() {
        for seed in [1u64, 7, 42, 2026, 99_991] {
            let mut rng = Rng(seed);
            let mut server = SharedDoc::default();
            let clients: Vec<Client> = (1..=4).map(Client::new).collect();
            let mut clients = clients;
            for _ in 0..600 {
                let i = rng.below(clients.len() as u64) as usize;
                match rng.below(10) {
                    0 => clients[i].online = false,
                    1 if !clients[i].online => {
                        let relayed = clients[i].sync(&mut server);
                        clients[i].online = true;
                        for (j, other) in clients.iter().enumerate() {
                            if j != i && other.online {
                                other.apply(&relayed);
                            }
                        }
                    }
                    _ => {
                        let update = random_edit(&mut rng, &clients[i]);
                        if clients[i].online {
                            server.apply(&update).unwrap();
                            for (j, other) in clients.iter().enumerate() {
                                if j != i && other.online {
                                    other.apply(&update);
                                }
                            }
                        }
                    }
                }
            }
            // Everyone back: two rounds, so the first to return also gets the last one's edits.
            for _ in 0..2 {
                for c in &mut clients {
                    c.sync(&mut server);
                    c.online = true;
                }
            }
            let expected = server.text();
            for c in &clients {
                assert_eq!(c.text(), expected, "seed {seed}");
            }
            // A restart: the snapshot loads into a new document with the same text.
            let reloaded = SharedDoc::from_snapshot(&server.snapshot()).unwrap();
            assert_eq!(reloaded.text(), expected, "seed {seed}");
        }
    }

    fn edited_doc() -> SharedDoc {
        let c = Client::new(1);
        let mut txn = c.doc.transact_mut();
        c.text.insert(&mut txn, 0, "fn main() {}\n");
        let update = txn.encode_update_v1();
        drop(txn);
        let mut server = SharedDoc::default();
        server.apply(&update).unwrap();
        server
    }

    /// Byte strings that crash, hang or corrupt yrs 0.28.1 when applied unchecked (found by
    /// fuzzing, 2026-11): each is refused before the library sees it.
    #[test]
    fn known_poisonous_updates_are_refused() {
        let mut nested = vec![1, 1, 1, 0, 8, 1, 1, b'a', 1];
        for _ in 0..20_000 {
            nested.extend([117, 1]);
        }
        nested.extend([126, 0]);
        let repeated_client = [
            2, 1, 2, 0, 196, 1, 2, 1, 3, 10, 104, 195, 169, 108, 108, 111, 240, 159, 156, 128, 4,
            2, 0, 1, 1, 4, 99, 111, 100, 101, 2, 132, 1, 1, 1, 32, 132, 1, 2, 10, 109, 97, 105,
            110, 40, 41, 32, 123, 125, 10, 132, 1, 12, 1, 120, 1, 125, 1, 1, 0, 6,
        ];
        let panics_later = [
            2, 1, 47, 2, 66, 0, 118, 1, 2, 1, 3, 10, 104, 195, 169, 108, 108, 111, 240, 159, 152,
            128, 4, 1, 0, 1, 1, 4, 99, 111, 100, 101, 2, 132, 1, 37, 1, 32, 132, 1, 2, 10, 109, 97,
            105, 110, 40, 41, 32, 123, 125, 10, 132, 1, 12, 1, 120, 1, 1, 1, 0, 6,
        ];
        let gap_a = [
            3, 3, 1, 9, 68, 4, 11, 4, 240, 159, 152, 128, 4, 1, 4, 99, 111, 100, 101, 2, 195, 169,
            196, 2, 11, 1, 2, 3, 120, 121, 122, 3, 3, 3, 132, 3, 5, 4, 240, 159, 152, 128, 65, 4,
            7, 1, 132, 2, 4, 1, 97, 2, 2, 7, 196, 1, 10, 1, 7, 1, 97, 10, 2, 1, 2, 2, 7, 2, 3, 4,
        ];
        for (name, bytes) in [
            ("deep nesting", &nested[..]),
            ("a client twice", &repeated_client[..]),
            ("panics later", &panics_later[..]),
            ("pending gap", &gap_a[..]),
        ] {
            let mut doc = edited_doc();
            assert!(doc.apply(bytes).is_err(), "{name} was accepted");
            assert_eq!(doc.text(), "fn main() {}\n", "{name} changed the text");
            // The document still works.
            assert!(!doc.snapshot().is_empty());
        }
        let mut doc = edited_doc();
        assert!(doc.apply(&vec![0u8; MAX_UPDATE_BYTES + 1]).is_err());
    }

    /// A bounded fuzz run (CI): random mutations of real updates, fed to the server document,
    /// on a watchdog thread so that a hang fails the test instead of stalling CI. Iterations:
    /// `PAIRWISE_FUZZ_ITERATIONS` (default 10,000, about 12 s in a debug build).
    #[test]
    fn mutated_updates_never_panic_or_hang() {
        let iterations: u64 = std::env::var("PAIRWISE_FUZZ_ITERATIONS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000);
        let (done, finished) = mpsc::channel();
        std::thread::spawn(move || {
            let mut rng = Rng(0x5eed_2026);
            // Seeds: edits from two clients, one building on the other's text.
            let a = Client::new(11);
            let b = Client::new(12);
            let mut seeds = Vec::new();
            for _ in 0..30 {
                let u = random_edit(&mut rng, &a);
                b.apply(&u);
                seeds.push(u);
                let u = random_edit(&mut rng, &b);
                a.apply(&u);
                seeds.push(u);
            }
            let mut accepted = 0u64;
            for _ in 0..iterations {
                let mut doc = SharedDoc::default();
                // A prefix of real history first, so references can resolve.
                let keep = rng.below(seeds.len() as u64) as usize;
                for s in &seeds[..keep] {
                    let _ = doc.apply(s);
                }
                let mut bytes = seeds[rng.below(seeds.len() as u64) as usize].clone();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(bytes.len() as u64 + 1) as usize;
                    match rng.below(3) {
                        0 if at < bytes.len() => bytes[at] = rng.next() as u8,
                        1 => bytes.insert(at, rng.next() as u8),
                        _ if at < bytes.len() => {
                            bytes.remove(at);
                        }
                        _ => {}
                    }
                }
                if doc.apply(&bytes).is_ok() {
                    accepted += 1;
                }
                let _ = doc.snapshot();
                let _ = doc.missing_for(&StateVector::default().encode_v1());
            }
            let _ = done.send(accepted);
        });
        match finished.recv_timeout(std::time::Duration::from_secs(240)) {
            Ok(accepted) => assert!(accepted > 0, "the mutations never produced a valid update"),
            Err(mpsc::RecvTimeoutError::Timeout) => panic!("a mutated update hung the document"),
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                panic!("a mutated update panicked the document")
            }
        }
    }
}
