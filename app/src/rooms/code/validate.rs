//! The strict check on a Yjs update (lib0 v1 encoding) before the server's CRDT library
//! decodes it. An editor bound to one shared text only ever sends text inserts and deletes,
//! so that is all that passes:
//! - blocks are garbage-collected ranges, deleted content or strings (no embedded JSON,
//!   nested types or sub-documents: nothing the decoder would recurse into);
//! - a block's parent is the named root text, or it hangs off another item by its origins;
//! - each client's section appears once;
//! - nothing is left "pending": every section starts at or below what the server already has
//!   of that client, and every origin and deleted range points at something the server has
//!   or this update brings. An honest client talking to the server never needs more.
//!
//! The reading is iterative with checked lengths: any byte string is answered in time
//! proportional to its length, without panicking.

use std::collections::HashMap;

/// The most clients a state vector may list (a room's editors over its whole life stay far
/// below: each browser tab that ever typed is one).
pub const MAX_STATE_VECTOR_CLIENTS: u64 = 10_000;

/// Checks a state vector before yrs decodes it: yrs reserves room for as many entries as the
/// first number claims, so five bytes could make it reserve gigabytes. Each entry is a client
/// id below 2^53 and a clock, and the whole message is read exactly.
pub fn check_state_vector(sv: &[u8]) -> Result<(), Refused> {
    let mut r = Reader { buf: sv, at: 0 };
    let n = r.varint()?;
    // Every entry takes at least two bytes.
    if n > MAX_STATE_VECTOR_CLIENTS || n > (sv.len() as u64) / 2 {
        return Err(Refused(
            "the state vector claims more clients than it holds",
        ));
    }
    for _ in 0..n {
        r.client()?;
        if r.varint()? > u64::from(u32::MAX) {
            return Err(Refused("a clock in the state vector is out of range"));
        }
    }
    if r.at != sv.len() {
        return Err(Refused("the state vector has trailing bytes"));
    }
    Ok(())
}

/// Why an update was refused (the socket tells the client, then closes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Refused(pub &'static str);

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, Refused> {
        let b = *self
            .buf
            .get(self.at)
            .ok_or(Refused("the update ends early"))?;
        self.at += 1;
        Ok(b)
    }

    fn varint(&mut self) -> Result<u64, Refused> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.byte()?;
            value |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(value);
            }
        }
        Err(Refused("a number in the update is too long"))
    }

    /// Yjs client ids are 53-bit (they must fit a JavaScript number).
    fn client(&mut self) -> Result<u64, Refused> {
        let c = self.varint()?;
        if c >= 1 << 53 {
            return Err(Refused("a client id in the update is out of range"));
        }
        Ok(c)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Refused> {
        let n = usize::try_from(self.varint()?).map_err(|_| Refused("a length is too large"))?;
        let end = self
            .at
            .checked_add(n)
            .filter(|e| *e <= self.buf.len())
            .ok_or(Refused("the update ends early"))?;
        let s = &self.buf[self.at..end];
        self.at = end;
        Ok(s)
    }
}

const INFO_LEFT_ORIGIN: u8 = 0x80;
const INFO_RIGHT_ORIGIN: u8 = 0x40;
const INFO_PARENT_SUB: u8 = 0x20;
const INFO_UNUSED: u8 = 0x10;
const CONTENT_DELETED: u8 = 1;
const CONTENT_STRING: u8 = 4;
/// Yjs clocks are 32-bit in practice; anything beyond is an attack on arithmetic.
const MAX_CLOCK: u64 = u32::MAX as u64;

/// What an update that passed the check brings.
#[derive(Debug, PartialEq, Eq)]
pub struct Checked {
    /// Clients whose changes go past what the server has (new text under their ids).
    pub new_clients: Vec<u64>,
    /// It deletes something (perhaps already deleted).
    pub deletes: bool,
}

impl Checked {
    /// Nothing new: a resend of what the server has, or Yjs's empty update.
    pub fn changes_nothing(&self) -> bool {
        self.new_clients.is_empty() && !self.deletes
    }
}

/// Checks `update` against the server document, of which `known(client)` is the next clock
/// the server expects from `client` (its state vector), for a document whose only root is
/// the text named `root`.
pub fn check_text_update(
    update: &[u8],
    root: &str,
    known: &dyn Fn(u64) -> u64,
) -> Result<Checked, Refused> {
    let mut r = Reader { buf: update, at: 0 };
    // Client → clock after this update's section; references that must resolve.
    let mut upto: HashMap<u64, u64> = HashMap::new();
    let mut refs: Vec<(u64, u64)> = Vec::new();
    let sections = r.varint()?;
    for _ in 0..sections {
        let blocks = r.varint()?;
        let client = r.client()?;
        let mut clock = r.varint()?;
        if upto.contains_key(&client) {
            return Err(Refused("a client appears twice in one update"));
        }
        if clock > known(client) {
            return Err(Refused("the update skips changes the server has not seen"));
        }
        for _ in 0..blocks {
            let info = r.byte()?;
            let len = if info == 0 {
                r.varint()? // a garbage-collected range
            } else {
                if info & (INFO_PARENT_SUB | INFO_UNUSED) != 0 {
                    return Err(Refused("only text edits are accepted"));
                }
                if info & INFO_LEFT_ORIGIN != 0 {
                    refs.push((r.client()?, r.varint()?));
                }
                if info & INFO_RIGHT_ORIGIN != 0 {
                    refs.push((r.client()?, r.varint()?));
                }
                if info & (INFO_LEFT_ORIGIN | INFO_RIGHT_ORIGIN) == 0 {
                    // No origins: the parent is named, and must be the shared text.
                    if r.varint()? != 1 || r.bytes()? != root.as_bytes() {
                        return Err(Refused("only the shared text can be edited"));
                    }
                }
                match info & 0x0f {
                    CONTENT_DELETED => r.varint()?,
                    CONTENT_STRING => {
                        let s = std::str::from_utf8(r.bytes()?)
                            .map_err(|_| Refused("text in the update is not UTF-8"))?;
                        s.encode_utf16().count() as u64
                    }
                    _ => return Err(Refused("only text edits are accepted")),
                }
            };
            if len == 0 {
                return Err(Refused("an empty change"));
            }
            clock = clock
                .checked_add(len)
                .filter(|c| *c <= MAX_CLOCK)
                .ok_or(Refused("a clock in the update is too large"))?;
        }
        upto.insert(client, clock);
    }
    let has = |client: u64, clock: u64| {
        clock < upto.get(&client).copied().unwrap_or(0).max(known(client))
    };
    let delete_clients = r.varint()?;
    for _ in 0..delete_clients {
        let client = r.client()?;
        let ranges = r.varint()?;
        for _ in 0..ranges {
            let (clock, len) = (r.varint()?, r.varint()?);
            let last = clock
                .checked_add(len.saturating_sub(1))
                .ok_or(Refused("a clock in the update is too large"))?;
            if len == 0 || !has(client, last) {
                return Err(Refused("the update deletes text the server does not have"));
            }
        }
    }
    if r.at != update.len() {
        return Err(Refused("unexpected bytes after the update"));
    }
    if refs.iter().any(|(client, clock)| !has(*client, *clock)) {
        return Err(Refused(
            "the update refers to text the server does not have",
        ));
    }
    let mut new_clients: Vec<u64> = upto
        .iter()
        .filter(|(client, to)| **to > known(**client))
        .map(|(client, _)| *client)
        .collect();
    new_clients.sort_unstable();
    Ok(Checked {
        new_clients,
        deletes: delete_clients > 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_and_truncations_are_refused_without_panicking() {
        let none = |_| 0;
        for bad in [
            &[][..],
            &[0xff; 12][..],
            &[1, 1, 1, 0, 8, 1, 1, b'a', 1][..],
            // A good insert of "x" with a byte after its end.
            &[1, 1, 1, 0, 4, 1, 4, b'c', b'o', b'd', b'e', 1, b'x', 0, 9][..],
            // A client id beyond 53 bits.
            &[
                1, 1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0,
            ][..],
            &[0, 0, 7][..],
        ] {
            assert!(check_text_update(bad, "code", &none).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn an_insert_into_the_root_text_passes_and_into_another_does_not() {
        // One client (1) at clock 0, one string block "hi" with parent "code", no deletes.
        let ok = [
            1, 1, 1, 0, 4, 1, 4, b'c', b'o', b'd', b'e', 2, b'h', b'i', 0,
        ];
        assert_eq!(
            check_text_update(&ok, "code", &|_| 0),
            Ok(Checked {
                new_clients: vec![1],
                deletes: false
            })
        );
        // The same again once the server has it: nothing new.
        assert!(
            check_text_update(&ok, "code", &|_| 2)
                .unwrap()
                .changes_nothing()
        );
        assert!(check_text_update(&ok, "notes", &|_| 0).is_err());
        // Starting at clock 5 when the server has nothing of client 1: it would be pending.
        let gap = [
            1, 1, 1, 5, 4, 1, 4, b'c', b'o', b'd', b'e', 2, b'h', b'i', 0,
        ];
        assert!(check_text_update(&gap, "code", &|_| 0).is_err());
        assert!(check_text_update(&gap, "code", &|_| 5).is_ok());
    }

    #[test]
    fn state_vectors_that_claim_more_than_they_hold_are_refused() {
        assert_eq!(check_state_vector(&[0]), Ok(()));
        // Two clients: (1, clock 3) and (2^40, clock 0).
        assert_eq!(
            check_state_vector(&[2, 1, 3, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 0]),
            Ok(())
        );
        for bad in [
            &[][..],
            // "Two billion clients" in five bytes: yrs would reserve gigabytes for it.
            &[0xff, 0xff, 0xff, 0xff, 0x07][..],
            &[1, 1][..],
            &[1, 1, 3, 9][..],
            // A client id beyond 53 bits.
            &[1, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0][..],
        ] {
            assert!(check_state_vector(bad).is_err(), "{bad:?}");
        }
    }
}
