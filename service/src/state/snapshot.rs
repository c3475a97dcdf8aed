//! A snapshot of the state replayed from the embedded log, so that a restart
//! decodes only the log's tail.
//!
//! A snapshot names the log tail it covers ([`LogTail`]: the number of
//! records, the last one's place and checksum) and is used only where the
//! log still holds that frame; a log cut short or replaced is replayed in
//! full. Each schema keeps its guid (no MD5 again) and, for a text left in
//! the log, its frame's place (no JSON again). What the state derives (the
//! users of each id, the guid index, the referrers) is rebuilt, not stored;
//! configs, modes, contexts and associations, few, are stored as the log's
//! own records and applied.
//!
//! Format, integers little-endian, strings and byte strings behind a `u32`
//! length, a trailing `u32` crc32c of everything before it:
//!
//! ```text
//! "SCUTSNP1"
//! tail: records u64 | at u64 | len u32 | crc u32
//! applied u64 | position u64
//! records u32 × (key bytes | value: u8 0, or u8 1 and bytes)
//! spaces u32 × (name | max_id i32 | ids u32 × schema)
//! schema = id i32 | guid [16] | type | text | refs u32 × (name | subject | version i32)
//!          | metadata: opt | rule_set: opt
//! text = u8 0 and the text, or u8 1 and at u64 | len u32
//! subjects u32 × (name | versions u32 × (version i32 | id i32 | deleted u8 | extra: opt))
//! ```

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::sync::{Arc, mpsc};

use scute_storage::file::{FramePlace, LogTail};
use scute_storage::record::{self, DEFAULT_TENANT, Record, SchemaReference};

use super::{
    FastMap, IdEntry, IdSpace, LogTexts, SchemaContent, SchemaText, State, VersionEntry, Versions,
};
use crate::context;

/// File name of the snapshot inside the data directory.
pub const SNAPSHOT_FILE: &str = "state.snapshot";

const MAGIC: &[u8; 8] = b"SCUTSNP1";

/// Writes the snapshot of `state`, which holds the first `tail.records`
/// records of the log, to `w` as it goes (a million schemas make 90 MB,
/// never held whole). `Ok(false)`, with nothing written, if the state holds
/// what a snapshot does not keep: the stamps of a shared topic's keys, which
/// a file log never has.
pub fn encode(state: &State, tail: &LogTail, w: impl Write) -> io::Result<bool> {
    let stamped = state.config_stamps.values().any(|s| !s.is_empty())
        || state.mode_stamps.values().any(|s| !s.is_empty())
        || state.contexts.values().any(|s| !s.is_empty())
        || state.associations.values().any(|a| !a.stamps.is_empty())
        || state
            .subjects
            .values()
            .any(|vs| vs.values().any(|e| !e.stamps.is_empty()));
    if stamped {
        return Ok(false);
    }
    let mut out = Out::new(w);
    out.put(MAGIC);
    out.u64(tail.records);
    out.u64(tail.last.at);
    out.u32(tail.last.len);
    out.u32(tail.crc);
    out.u64(state.applied);
    out.u64(state.position);

    let contexts = state.contexts.keys().map(|context| Record::Context {
        tenant: DEFAULT_TENANT.to_owned(),
        context: context.clone(),
        live: true,
    });
    let configs = state.configs.iter().map(|(subject, value)| Record::Config {
        subject: subject.clone(),
        value: Some(value.clone()),
    });
    let modes = state.modes.iter().map(|(subject, value)| Record::Mode {
        subject: subject.clone(),
        value: Some(value.clone()),
    });
    let associations = state
        .associations
        .iter()
        .map(|(key, entry)| Record::Association {
            key: key.clone(),
            value: Some(entry.value.clone()),
        });
    // In key order, so that a state always makes the same bytes.
    let mut records: Vec<_> = contexts
        .chain(configs)
        .chain(modes)
        .chain(associations)
        .map(|record| record.encode())
        .collect();
    records.sort_unstable_by(|a, b| a.key.cmp(&b.key));
    out.len(records.len());
    for raw in &records {
        out.bytes(&raw.key);
        out.opt(raw.value.as_deref());
    }

    out.len(state.spaces.len());
    for (name, space) in &state.spaces {
        out.str(name);
        out.i32(space.max_id);
        let mut ids: Vec<_> = space.ids.iter().collect();
        ids.sort_unstable_by_key(|(id, _)| **id);
        out.len(ids.len());
        for (id, entry) in ids {
            out.i32(*id);
            content(&mut out, &entry.content);
        }
    }

    out.len(state.subjects.len());
    for (name, versions) in &state.subjects {
        out.str(name);
        out.len(versions.len());
        for (version, entry) in versions {
            out.i32(*version);
            out.i32(entry.id);
            out.put(&[u8::from(entry.deleted)]);
            let extra = entry.extra.as_ref().map(serde_json::to_vec).transpose()?;
            out.opt(extra.as_deref());
        }
    }
    out.finish().map(|_| true)
}

fn content(out: &mut Out<impl Write>, content: &SchemaContent) {
    out.put(&content.guid);
    out.str(&content.schema_type);
    match &content.schema {
        SchemaText::Inline(text) => {
            out.put(&[0]);
            out.str(text);
        }
        SchemaText::Logged { at, len, .. } => {
            out.put(&[1]);
            out.u64(*at);
            out.u32(*len);
        }
    }
    out.len(content.references.len());
    for r in &content.references {
        out.str(&r.name);
        out.str(&r.subject);
        out.i32(r.version);
    }
    let json = |v: &Option<Box<serde_json::Value>>| v.as_ref().map(|v| v.to_string());
    out.opt(json(&content.metadata).as_deref().map(str::as_bytes));
    out.opt(json(&content.rule_set).as_deref().map(str::as_bytes));
}

/// Reads a snapshot: the tail of the log it covers and the state, whose
/// texts left in the log are read through `log`. Anything unexpected (a
/// short or altered file, a version whose id is not there, names out of
/// order) is an error: the caller replays the log instead.
pub fn decode(bytes: &[u8], log: &Arc<LogTexts>) -> Result<(LogTail, State), String> {
    decode_from(bytes, bytes.len() as u64, log)
}

/// The tail of the log a snapshot says it covers, read from its head alone
/// (unchecked: [`decode_from`] checks the whole file and returns the same
/// tail), so the log can be scanned while the rest is decoded.
pub fn peek_tail(source: impl Read) -> Result<LogTail, String> {
    let mut r = In {
        source,
        left: HEAD_BYTES,
        crc: 0,
        scratch: Vec::new(),
    };
    read_head(&mut r)
}

/// The magic and the tail: the bytes [`peek_tail`] reads.
const HEAD_BYTES: u64 = 8 + 8 + 8 + 4 + 4;

/// Reads the magic and the tail the snapshot covers.
fn read_head<R: Read>(r: &mut In<R>) -> Result<LogTail, String> {
    if r.array::<8>()? != *MAGIC {
        return Err("not a snapshot of this format".into());
    }
    Ok(LogTail {
        records: r.u64()?,
        last: FramePlace {
            at: r.u64()?,
            len: r.u32()?,
        },
        crc: r.u32()?,
    })
}

/// [`decode`] from a reader of `len` bytes (a file, read through once and
/// never held whole: a million schemas make a 90 MB snapshot).
pub fn decode_from(
    source: impl Read,
    len: u64,
    log: &Arc<LogTexts>,
) -> Result<(LogTail, State), String> {
    let body = len
        .checked_sub(4)
        .filter(|n| *n >= MAGIC.len() as u64)
        .ok_or("the file is too short")?;
    let mut r = In {
        source,
        left: body,
        crc: 0,
        scratch: Vec::new(),
    };
    let tail = read_head(&mut r)?;
    let mut state = State::default();
    let applied = r.u64()?;
    let position = r.u64()?;

    for _ in 0..r.len()? {
        let key = r.bytes()?.to_vec();
        let value = r.opt()?;
        match record::decode(&key, value).map_err(|e| e.to_string())? {
            record @ (Record::Config { .. }
            | Record::Mode { .. }
            | Record::Context { .. }
            | Record::Association { .. }) => state.apply(record),
            _ => return Err("a record of a kind a snapshot does not hold".into()),
        }
    }

    // This thread reads and allocates the contents and names; another puts
    // them into the maps. Most of a load is fresh memory being touched, and
    // so it is split between the two cores.
    let (tx, rx) = mpsc::sync_channel::<Vec<Item>>(BATCHES_AHEAD);
    let (read, built) = std::thread::scope(|scope| {
        let builder = scope.spawn(move || build(state, rx));
        let read = read_items(&mut r, log, tx).and_then(|()| r.finish());
        let built = builder
            .join()
            .unwrap_or_else(|_| Err("the snapshot's builder panicked".into()));
        (read, built)
    });
    let mut state = match (read, built) {
        (Ok(()), Ok(state)) => state,
        // The builder's error, if it stopped first, is why reading stopped.
        (_, Err(e)) | (Err(e), Ok(_)) => return Err(e),
    };
    state.applied = applied;
    state.position = position;
    Ok((tail, state))
}

/// Items handed to the builder at a time, and batches read ahead of it.
const BATCH: usize = 512;
const BATCHES_AHEAD: usize = 8;

/// What the reading thread hands the building one, in file order.
enum Item {
    Space {
        name: Arc<str>,
        max_id: i32,
        ids: usize,
    },
    Id(i32, Arc<SchemaContent>),
    /// How many subjects follow.
    Subjects(usize),
    /// A subject, its `versions` versions following. Versions travel one
    /// by one: a list made on this thread and dropped on the other would
    /// leave its memory in this thread's heap.
    Subject {
        name: Arc<str>,
        versions: usize,
    },
    Version(VersionItem),
}

/// The subject being built: its name, its versions so far, and how many
/// it has.
type Reading = (Arc<str>, Vec<(i32, VersionEntry)>, usize);

/// A version as read: version, id, deleted, extra fields.
type VersionItem = (
    i32,
    i32,
    bool,
    Option<Box<serde_json::Map<String, serde_json::Value>>>,
);

fn read_items(
    r: &mut In<impl Read>,
    log: &Arc<LogTexts>,
    tx: mpsc::SyncSender<Vec<Item>>,
) -> Result<(), String> {
    let mut batch = Vec::with_capacity(BATCH);
    let push = |item: Item, batch: &mut Vec<Item>| {
        batch.push(item);
        if batch.len() < BATCH {
            return Ok(());
        }
        let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
        tx.send(full)
            .map_err(|_| "the snapshot's builder stopped".to_owned())
    };
    for _ in 0..r.len()? {
        let name: Arc<str> = r.str()?.into();
        let max_id = r.i32()?;
        let ids = r.len()?;
        push(Item::Space { name, max_id, ids }, &mut batch)?;
        for _ in 0..ids {
            let id = r.i32()?;
            let content = Arc::new(read_content(r, log)?);
            push(Item::Id(id, content), &mut batch)?;
        }
    }
    let subjects = r.len()?;
    push(Item::Subjects(subjects), &mut batch)?;
    for _ in 0..subjects {
        let name: Arc<str> = r.str()?.into();
        let versions = r.len()?;
        push(Item::Subject { name, versions }, &mut batch)?;
        for _ in 0..versions {
            let version = r.i32()?;
            let id = r.i32()?;
            let deleted = r.u8()? != 0;
            let extra = match r.opt()? {
                Some(json) => Some(Box::new(
                    serde_json::from_slice(json).map_err(|e| e.to_string())?,
                )),
                None => None,
            };
            push(Item::Version((version, id, deleted, extra)), &mut batch)?;
        }
    }
    if !batch.is_empty() {
        tx.send(batch)
            .map_err(|_| "the snapshot's builder stopped".to_owned())?;
    }
    Ok(())
}

/// Puts the items read into `state`'s maps and derives its indexes,
/// checking what the live state always holds: names and versions in order,
/// each version's id held, each id used.
fn build(mut state: State, rx: mpsc::Receiver<Vec<Item>>) -> Result<State, String> {
    let mut space: Option<(Arc<str>, IdSpace)> = None;
    let mut subjects: Vec<(Arc<str>, Versions)> = Vec::new();
    let mut subject: Option<Reading> = None;
    let finish_subject = |subjects: &mut Vec<(Arc<str>, Versions)>,
                          subject: &mut Option<Reading>| {
        let Some((name, versions, count)) = subject.take() else {
            return Ok(());
        };
        if versions.is_empty() || versions.len() != count {
            return Err(format!(
                "subject {name} has {} of {count} versions",
                versions.len()
            ));
        }
        subjects.push((name, Versions(versions)));
        Ok(())
    };
    let finish_space = |state: &mut State, space: &mut Option<(Arc<str>, IdSpace)>| {
        let Some((name, ids)) = space.take() else {
            return Ok(());
        };
        match state.spaces.insert(name.clone(), ids) {
            Some(_) => Err(format!("context {name} appears twice")),
            None => Ok(()),
        }
    };
    for item in rx.into_iter().flatten() {
        match item {
            Item::Space { name, max_id, ids } => {
                finish_space(&mut state, &mut space)?;
                let ids = IdSpace {
                    ids: FastMap::with_capacity_and_hasher(ids, Default::default()),
                    by_guid: FastMap::with_capacity_and_hasher(ids, Default::default()),
                    guid_collisions: FastMap::default(),
                    max_id,
                };
                space = Some((name, ids));
            }
            Item::Id(id, content) => {
                let (name, ids) = space.as_mut().ok_or("an id before its context")?;
                let users = Vec::new();
                if ids.ids.insert(id, IdEntry { content, users }).is_some() {
                    return Err(format!("id {id} of context {name} appears twice"));
                }
            }
            Item::Subjects(n) => {
                finish_space(&mut state, &mut space)?;
                subjects.reserve_exact(n);
            }
            Item::Subject { name, versions } => {
                finish_subject(&mut subjects, &mut subject)?;
                if subjects.last().is_some_and(|(last, _)| *last >= name) {
                    return Err(format!("subject {name} is out of order"));
                }
                subject = Some((name, Vec::with_capacity(versions), versions));
            }
            Item::Version((version, id, deleted, extra)) => {
                let (name, versions, _) = subject.as_mut().ok_or("a version before its subject")?;
                if versions
                    .last()
                    .is_some_and(|(last, _): &(i32, VersionEntry)| *last >= version)
                {
                    return Err(format!("version {version} of {name} is out of order"));
                }
                let ids = state.spaces.get_mut(context::of(name));
                let Some(entry) = ids.and_then(|s| s.ids.get_mut(&id)) else {
                    return Err(format!("version {version} of {name} has id {id}, not held"));
                };
                // Subjects and versions come in order: each list stays sorted.
                entry.users.reserve_exact(1);
                entry.users.push((name.clone(), version));
                let content = entry.content.clone();
                for reference in &content.references {
                    state
                        .referenced_by
                        .entry((
                            context::qualify_with_parent(name, &reference.subject),
                            reference.version,
                        ))
                        .or_default()
                        .insert((name.to_string(), version));
                }
                let stamps = Vec::new();
                let entry = VersionEntry {
                    id,
                    deleted,
                    content,
                    extra,
                    stamps,
                };
                versions.push((version, entry));
            }
        }
    }
    finish_subject(&mut subjects, &mut subject)?;
    finish_space(&mut state, &mut space)?;
    state.subjects = BTreeMap::from_iter(subjects);

    for (name, space) in &mut state.spaces {
        let mut ids: Vec<(i32, [u8; 16])> = Vec::with_capacity(space.ids.len());
        for (id, entry) in &space.ids {
            if entry.users.is_empty() {
                return Err(format!("id {id} of context {name} has no version"));
            }
            ids.push((*id, entry.content.guid));
        }
        ids.sort_unstable();
        for (id, guid) in ids {
            space.index_guid(guid, id);
        }
    }
    Ok(state)
}

fn read_content(r: &mut In<impl Read>, log: &Arc<LogTexts>) -> Result<SchemaContent, String> {
    let guid: [u8; 16] = r.array()?;
    let schema_type = r.str()?.to_owned();
    let schema = match r.u8()? {
        0 => SchemaText::Inline(r.str()?.into()),
        1 => SchemaText::Logged {
            log: log.clone(),
            at: r.u64()?,
            len: r.u32()?,
        },
        tag => return Err(format!("unknown text tag {tag}")),
    };
    let n = r.len()?;
    let mut references = Vec::with_capacity(n);
    for _ in 0..n {
        references.push(SchemaReference {
            name: r.str()?.to_owned(),
            subject: r.str()?.to_owned(),
            version: r.i32()?,
        });
    }
    let json = |bytes: Option<&[u8]>| -> Result<Option<serde_json::Value>, String> {
        bytes
            .map(|b| serde_json::from_slice(b).map_err(|e| e.to_string()))
            .transpose()
    };
    let metadata = json(r.opt()?)?;
    let rule_set = json(r.opt()?)?;
    Ok(SchemaContent::with_guid(
        guid,
        schema_type,
        schema,
        references,
        metadata,
        rule_set,
    ))
}

/// A writer that checksums what it writes and keeps the first error for
/// [`Out::finish`], so the encoding reads as a list of fields.
struct Out<W> {
    w: W,
    crc: u32,
    failed: Option<io::Error>,
}

impl<W: Write> Out<W> {
    fn new(w: W) -> Self {
        Self {
            w,
            crc: 0,
            failed: None,
        }
    }
    fn put(&mut self, b: &[u8]) {
        if self.failed.is_none() {
            self.crc = crc32c::crc32c_append(self.crc, b);
            if let Err(e) = self.w.write_all(b) {
                self.failed = Some(e);
            }
        }
    }
    fn u32(&mut self, n: u32) {
        self.put(&n.to_le_bytes());
    }
    fn u64(&mut self, n: u64) {
        self.put(&n.to_le_bytes());
    }
    fn i32(&mut self, n: i32) {
        self.put(&n.to_le_bytes());
    }
    /// A count; a state never holds 2^32 of anything.
    fn len(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    fn bytes(&mut self, b: &[u8]) {
        self.len(b.len());
        self.put(b);
    }
    fn str(&mut self, s: &str) {
        self.bytes(s.as_bytes());
    }
    fn opt(&mut self, b: Option<&[u8]>) {
        match b {
            Some(b) => {
                self.put(&[1]);
                self.bytes(b);
            }
            None => self.put(&[0]),
        }
    }
    /// Seals what was written with its checksum.
    fn finish(mut self) -> io::Result<W> {
        let crc = self.crc;
        self.u32(crc);
        match self.failed {
            Some(e) => Err(e),
            None => Ok(self.w),
        }
    }
}

/// A reader that never reads past the end nor trusts a count: each counted
/// item takes at least a byte, so a count above the bytes left is refused
/// before anything is allocated for it. It checksums what it reads.
struct In<R> {
    source: R,
    /// Bytes of the body not read yet (the checksum after it aside).
    left: u64,
    crc: u32,
    scratch: Vec<u8>,
}

impl<R: Read> In<R> {
    fn fill(&mut self, buf: &mut [u8]) -> Result<(), String> {
        if buf.len() as u64 > self.left {
            return Err("the file ends early".into());
        }
        self.source
            .read_exact(buf)
            .map_err(|e| format!("reading the snapshot: {e}"))?;
        self.left -= buf.len() as u64;
        self.crc = crc32c::crc32c_append(self.crc, buf);
        Ok(())
    }
    /// The next `n` bytes, until the next read.
    fn take(&mut self, n: usize) -> Result<&[u8], String> {
        let mut scratch = std::mem::take(&mut self.scratch);
        scratch.resize(n, 0);
        let filled = self.fill(&mut scratch);
        self.scratch = scratch;
        filled.map(|()| &self.scratch[..])
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], String> {
        let mut a = [0; N];
        self.fill(&mut a)?;
        Ok(a)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.array::<1>()?[0])
    }
    fn u32(&mut self) -> Result<u32, String> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    fn u64(&mut self) -> Result<u64, String> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_le_bytes(self.array()?))
    }
    fn len(&mut self) -> Result<usize, String> {
        let n = self.u32()?;
        if u64::from(n) > self.left {
            return Err(format!("a count of {n} is more than the bytes left"));
        }
        Ok(n as usize)
    }
    fn bytes(&mut self) -> Result<&[u8], String> {
        let n = self.len()?;
        self.take(n)
    }
    fn str(&mut self) -> Result<&str, String> {
        std::str::from_utf8(self.bytes()?).map_err(|e| e.to_string())
    }
    fn opt(&mut self) -> Result<Option<&[u8]>, String> {
        match self.u8()? {
            0 => Ok(None),
            1 => self.bytes().map(Some),
            tag => Err(format!("unknown option tag {tag}")),
        }
    }
    /// Checks that the body ended where the checksum starts, and the checksum.
    fn finish(mut self) -> Result<(), String> {
        if self.left != 0 {
            return Err("bytes after the end".into());
        }
        let body_crc = self.crc;
        self.left = 4;
        let stored = u32::from_le_bytes(self.array()?);
        if stored != body_crc {
            return Err("checksum mismatch".into());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use scute_storage::FileLog;
    use scute_storage::file::FrameReader;
    use scute_storage::record::{
        AssociationKey, AssociationValue, ConfigValue, DeleteSubjectValue, ModeValue, SchemaValue,
    };
    use serde_json::json;

    fn schema(subject: &str, version: i32, id: i32, text: &str) -> SchemaValue {
        SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema_type: None,
            references: Vec::new(),
            metadata: None,
            rule_set: None,
            schema: text.into(),
            deleted: false,
            extra: serde_json::Map::new(),
        }
    }

    fn put(value: SchemaValue) -> Record {
        Record::Schema {
            subject: value.subject.clone(),
            version: value.version,
            value: Some(value),
        }
    }

    /// A state with one of everything a snapshot keeps.
    /// A state with [`records`] applied.
    fn applied() -> State {
        let mut state = State::default();
        for record in records() {
            state.apply(record);
        }
        state
    }

    fn records() -> Vec<Record> {
        let mut out = Vec::new();
        for i in 1..=40 {
            out.push(put(schema(
                &format!("s{}", i % 7),
                i / 7 + 1,
                i,
                &format!("\"t{i}\""),
            )));
        }
        // The same text as id 1 under another type: a second id, one guid.
        let mut protobuf = schema("p", 1, 41, "\"t1\"");
        protobuf.schema_type = Some("PROTOBUF".into());
        out.push(put(protobuf));
        let mut referring = schema("r", 1, 42, "{\"type\":\"record\"}");
        referring.references = vec![SchemaReference {
            name: "t".into(),
            subject: "s1".into(),
            version: 1,
        }];
        referring.metadata = Some(json!({"properties": {"owner": "a"}}));
        referring.rule_set = Some(json!({"domainRules": []}));
        referring.extra.insert("md5".into(), json!("x"));
        out.push(put(referring));
        out.push(put(schema(":.ctx:c", 1, 1, "\"other context\"")));
        out.push(Record::Context {
            tenant: DEFAULT_TENANT.into(),
            context: ".ctx".into(),
            live: true,
        });
        out.push(Record::DeleteSubject {
            subject: "s2".into(),
            value: Some(DeleteSubjectValue {
                subject: "s2".into(),
                version: 1,
                extra: serde_json::Map::new(),
            }),
        });
        out.push(Record::Schema {
            subject: "s3".into(),
            version: 2,
            value: None,
        });
        out.push(Record::Config {
            subject: None,
            value: Some(ConfigValue {
                compatibility_level: Some("FULL".into()),
                ..Default::default()
            }),
        });
        out.push(Record::Config {
            subject: Some("s1".into()),
            value: Some(ConfigValue {
                subject: Some("s1".into()),
                normalize: Some(true),
                ..Default::default()
            }),
        });
        out.push(Record::Mode {
            subject: Some("s4".into()),
            value: Some(ModeValue {
                subject: Some("s4".into()),
                mode: "READONLY".into(),
                extra: serde_json::Map::new(),
            }),
        });
        out.push(Record::Association {
            key: AssociationKey {
                tenant: DEFAULT_TENANT.into(),
                resource_name: "orders".into(),
                resource_namespace: "lkc-1".into(),
                resource_type: "topic".into(),
                association_type: "value".into(),
                subject: "s5".into(),
            },
            value: Some(AssociationValue {
                guid: "g".into(),
                resource_id: "id-1".into(),
                lifecycle: "STRONG".into(),
                frozen: false,
                create_ts: Some(7),
                extra: serde_json::Map::new(),
            }),
        });
        out
    }

    fn tail() -> LogTail {
        LogTail {
            records: 52,
            last: FramePlace { at: 4096, len: 99 },
            crc: 0xdead_beef,
        }
    }

    fn encoded(state: &State) -> Vec<u8> {
        let mut bytes = Vec::new();
        assert!(encode(state, &tail(), &mut bytes).unwrap());
        bytes
    }

    fn reader() -> (tempfile::TempDir, Arc<LogTexts>) {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        log.close_blocking();
        let reader = Arc::new(LogTexts::new(FrameReader::open(dir.path()).unwrap()));
        (dir, reader)
    }

    #[test]
    fn a_snapshot_gives_back_the_state_it_was_taken_of() {
        let state = applied();
        assert_eq!(
            state
                .ids_of_guid(".", &state.schema(".", 1).unwrap().guid)
                .count(),
            2
        );
        let bytes = encoded(&state);
        let (_dir, reader) = reader();
        let (read_tail, read) = decode(&bytes, &reader).unwrap();
        assert_eq!(read_tail, tail());
        assert_eq!(read, state);
    }

    #[test]
    fn the_guid_index_is_the_same_whatever_order_ids_come_in() {
        let mut forward = State::default();
        let mut backward = State::default();
        let records: Vec<Record> = (1..=3)
            .map(|id| {
                let mut value = schema(&format!("s{id}"), 1, id, "\"same\"");
                value.schema_type = Some(["AVRO", "JSON", "PROTOBUF"][id as usize - 1].into());
                put(value)
            })
            .collect();
        for record in records.iter().cloned() {
            forward.apply(record);
        }
        for record in records.into_iter().rev() {
            backward.apply(record);
        }
        assert_eq!(forward, backward);
    }

    #[test]
    fn a_damaged_or_altered_snapshot_is_refused_not_misread() {
        let state = applied();
        let bytes = encoded(&state);
        let (_dir, reader) = reader();
        for at in [0, 9, bytes.len() / 2, bytes.len() - 1] {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x40;
            assert!(decode(&damaged, &reader).is_err(), "byte {at}");
        }
        for len in [0, 4, 12, bytes.len() - 1] {
            assert!(decode(&bytes[..len], &reader).is_err(), "{len} bytes");
        }
        // A well-sealed body that lies: a version whose id is not held.
        let mut out = Out::new(Vec::new());
        out.put(MAGIC);
        for n in [1u64, 0, 0, 0, 0] {
            out.u64(n);
        }
        out.len(0);
        out.len(0);
        out.len(1);
        out.str("s");
        out.len(1);
        out.i32(1);
        out.i32(7);
        out.put(&[0]);
        out.opt(None);
        let err = decode(&out.finish().unwrap(), &reader).unwrap_err();
        assert!(err.contains("has id 7, not held"), "{err}");
    }

    #[test]
    fn a_state_with_stamps_is_not_snapshotted() {
        let mut state = State::default();
        let stamp = scute_storage::record::KeyStamp { seq: 0, node: 1 };
        state.apply_at(0, put(schema("s", 1, 1, "\"x\"")), Some(stamp));
        let mut bytes = Vec::new();
        assert!(!encode(&state, &tail(), &mut bytes).unwrap());
        assert!(bytes.is_empty());
    }

    #[test]
    fn the_head_names_the_tail_the_whole_file_does() {
        let state = applied();
        let bytes = encoded(&state);
        let (_dir, reader) = reader();
        let (decoded, _) = decode(&bytes, &reader).unwrap();
        assert_eq!(peek_tail(&bytes[..]).unwrap(), decoded);
        assert_eq!(decoded, tail());
        assert!(peek_tail(&bytes[..20]).is_err());
        let mut other = bytes.clone();
        other[0] ^= 1;
        assert!(peek_tail(&other[..]).is_err());
    }
}
