//! The Yjs wire protocol as y-protocols speaks it, in binary WebSocket frames on the room's
//! socket. Read strictly by hand rather than through a general decoder: every length is
//! checked against what is left of the frame before anything is allocated, and anything this
//! server does not serve (auth, query-awareness, trailing bytes) is refused.
//!
//! A frame is `varUint type` then:
//! - type 0 (sync): `varUint step` (0 = SyncStep1 with a state vector, 1 = SyncStep2 with an
//!   update, 2 = Update) and one `varUint8Array`;
//! - type 1 (awareness): one `varUint8Array` holding `varUint count` entries of
//!   `varUint clientID, varUint clock, varString stateJSON`.

use crate::rooms::code::validate::Refused;

/// The largest awareness message (one user's name, colour and cursor are ~300 bytes).
pub const MAX_AWARENESS_BYTES: usize = 8 * 1024;
/// Awareness entries in one message (a browser sends its own, a server a room's).
pub const MAX_AWARENESS_ENTRIES: usize = 32;

const SYNC: u64 = 0;
const AWARENESS: u64 = 1;
const STEP1: u64 = 0;
const STEP2: u64 = 1;
const UPDATE: u64 = 2;

/// One client frame, borrowing its payload.
#[derive(Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// "Here is what I have" (a state vector): answer with what it lacks.
    SyncStep1(&'a [u8]),
    /// The answer to our state vector: what we lacked.
    SyncStep2(&'a [u8]),
    /// A live change.
    Update(&'a [u8]),
    /// Presence: names, colours and cursors.
    Awareness(Vec<AwarenessEntry>),
}

/// One client's presence: `state` is the JSON object its editor publishes, or `None` when it
/// left.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AwarenessEntry {
    pub client: u64,
    pub clock: u64,
    pub state: Option<String>,
}

struct Reader<'a> {
    buf: &'a [u8],
    pos: usize,
}

const BAD: Refused = Refused("the message is not a Yjs sync or awareness message");

impl<'a> Reader<'a> {
    fn var_uint(&mut self) -> Result<u64, Refused> {
        let mut value = 0u64;
        // At most 53 bits, as JavaScript's numbers hold (lib0 writes no more).
        for shift in (0..56).step_by(7) {
            let byte = *self.buf.get(self.pos).ok_or(BAD)?;
            self.pos += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte < 0x80 {
                return if value < (1 << 53) {
                    Ok(value)
                } else {
                    Err(BAD)
                };
            }
        }
        Err(BAD)
    }

    fn bytes(&mut self) -> Result<&'a [u8], Refused> {
        let len = usize::try_from(self.var_uint()?).map_err(|_| BAD)?;
        let end = self.pos.checked_add(len).ok_or(BAD)?;
        let out = self.buf.get(self.pos..end).ok_or(BAD)?;
        self.pos = end;
        Ok(out)
    }

    fn done(&self) -> Result<(), Refused> {
        if self.pos == self.buf.len() {
            Ok(())
        } else {
            Err(BAD)
        }
    }
}

/// Reads one client frame.
pub fn parse(frame: &[u8]) -> Result<Frame<'_>, Refused> {
    let mut r = Reader { buf: frame, pos: 0 };
    let parsed = match r.var_uint()? {
        SYNC => {
            let step = r.var_uint()?;
            let payload = r.bytes()?;
            match step {
                STEP1 => Frame::SyncStep1(payload),
                STEP2 => Frame::SyncStep2(payload),
                UPDATE => Frame::Update(payload),
                _ => return Err(BAD),
            }
        }
        AWARENESS => {
            let payload = r.bytes()?;
            if payload.len() > MAX_AWARENESS_BYTES {
                return Err(Refused("the presence message is too large"));
            }
            Frame::Awareness(parse_awareness(payload)?)
        }
        _ => return Err(BAD),
    };
    r.done()?;
    Ok(parsed)
}

fn parse_awareness(payload: &[u8]) -> Result<Vec<AwarenessEntry>, Refused> {
    let mut r = Reader {
        buf: payload,
        pos: 0,
    };
    let count = usize::try_from(r.var_uint()?).map_err(|_| BAD)?;
    if count > MAX_AWARENESS_ENTRIES {
        return Err(Refused("the presence message has too many entries"));
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let client = r.var_uint()?;
        let clock = r.var_uint()?;
        let json = std::str::from_utf8(r.bytes()?)
            .map_err(|_| Refused("a presence state is not UTF-8 text"))?;
        let state = if json == "null" {
            None
        } else {
            Some(json.to_string())
        };
        entries.push(AwarenessEntry {
            client,
            clock,
            state,
        });
    }
    r.done()?;
    Ok(entries)
}

fn var_uint(out: &mut Vec<u8>, mut n: u64) {
    while n >= 0x80 {
        out.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn var_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    var_uint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn sync(step: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(payload.len() + 8);
    var_uint(&mut out, SYNC);
    var_uint(&mut out, step);
    var_bytes(&mut out, payload);
    out
}

/// "Here is what the server has": the client answers with what the server lacks (its offline
/// edits).
pub fn sync_step1(state_vector: &[u8]) -> Vec<u8> {
    sync(STEP1, state_vector)
}

pub fn sync_step2(update: &[u8]) -> Vec<u8> {
    sync(STEP2, update)
}

pub fn update(update: &[u8]) -> Vec<u8> {
    sync(UPDATE, update)
}

pub fn awareness(entries: &[AwarenessEntry]) -> Vec<u8> {
    let mut payload = Vec::new();
    var_uint(&mut payload, entries.len() as u64);
    for e in entries {
        var_uint(&mut payload, e.client);
        var_uint(&mut payload, e.clock);
        var_bytes(
            &mut payload,
            e.state.as_deref().unwrap_or("null").as_bytes(),
        );
    }
    let mut out = Vec::with_capacity(payload.len() + 4);
    var_uint(&mut out, AWARENESS);
    var_bytes(&mut out, &payload);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        assert_eq!(parse(&sync_step1(&[1, 2])), Ok(Frame::SyncStep1(&[1, 2])));
        assert_eq!(parse(&sync_step2(&[0, 0])), Ok(Frame::SyncStep2(&[0, 0])));
        let big = vec![7u8; 300];
        assert_eq!(parse(&update(&big)), Ok(Frame::Update(&big)));
        let entries = vec![
            AwarenessEntry {
                client: 1 << 40,
                clock: 3,
                state: Some(r#"{"user":{"name":"Ada"}}"#.into()),
            },
            AwarenessEntry {
                client: 9,
                clock: 4,
                state: None,
            },
        ];
        assert_eq!(parse(&awareness(&entries)), Ok(Frame::Awareness(entries)));
    }

    /// Bytes y-protocols 1.0.7 produced in a browser: SyncStep1 of an empty document
    /// (`[0, 0, 1, 0]`) and an awareness update for client 42 at clock 1 with state `{}`.
    #[test]
    fn reads_what_y_protocols_writes() {
        assert_eq!(parse(&[0, 0, 1, 0]), Ok(Frame::SyncStep1(&[0])));
        let frame = [1, 6, 1, 42, 1, 2, b'{', b'}'];
        assert_eq!(
            parse(&frame),
            Ok(Frame::Awareness(vec![AwarenessEntry {
                client: 42,
                clock: 1,
                state: Some("{}".into())
            }]))
        );
    }

    #[test]
    fn refuses_what_it_does_not_serve() {
        for bad in [
            &[][..],
            &[2, 0],                         // auth
            &[3],                            // query awareness
            &[0, 3, 0],                      // an unknown sync step
            &[0, 0, 5, 1],                   // a length past the end
            &[0, 0, 1, 0, 9],                // trailing bytes
            &[0, 0, 0xff, 0xff, 0xff, 0xff], // an unfinished number
            &[0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01],
            &[1, 2, 40, 0],         // 40 awareness entries claimed
            &[1, 4, 1, 1, 1, 0xff], // a state past the end
        ] {
            assert!(parse(bad).is_err(), "{bad:?} was accepted");
        }
        let not_utf8 = [1, 6, 1, 42, 1, 2, 0xc3, 0x28];
        assert!(parse(&not_utf8).is_err());
    }

    /// Random mutations of real frames (a bounded fuzz run): parsing answers every byte string
    /// without panicking, and what it accepts re-encodes to the same bytes.
    #[test]
    fn mutated_frames_never_panic_and_accepted_ones_round_trip() {
        let mut x = 0x2026_1127_u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let seeds = [
            sync_step1(&[2, 1, 3, 7, 9]),
            sync_step2(&[
                1, 1, 1, 0, 4, 1, 4, b'c', b'o', b'd', b'e', 2, b'h', b'i', 0,
            ]),
            update(&[0, 0]),
            awareness(&[AwarenessEntry {
                client: 77,
                clock: 2,
                state: Some(r#"{"cursor":{"anchor":1}}"#.into()),
            }]),
        ];
        for _ in 0..50_000 {
            let mut bytes = seeds[(next() % seeds.len() as u64) as usize].clone();
            for _ in 0..=next() % 4 {
                let at = (next() % (bytes.len() as u64 + 1)) as usize;
                match next() % 3 {
                    0 if at < bytes.len() => bytes[at] = next() as u8,
                    1 => bytes.insert(at, next() as u8),
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => {}
                }
            }
            if let Ok(frame) = parse(&bytes) {
                let again = match frame {
                    Frame::SyncStep1(p) => sync_step1(p),
                    Frame::SyncStep2(p) => sync_step2(p),
                    Frame::Update(p) => update(p),
                    Frame::Awareness(e) => awareness(&e),
                };
                // Numbers may be written longer than needed; what they say must not change.
                assert!(parse(&again).is_ok());
            }
        }
    }
}
