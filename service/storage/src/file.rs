//! The embedded backend: an append-only file in the data directory.
//!
//! # File format
//!
//! `schemas.log` starts with the 8 bytes `SCUTLOG1` (so a wrong file is refused, not
//! truncated, and the format can change), then one frame per record, all integers
//! little-endian:
//!
//! ```text
//! payload_len u32 | crc32c(payload) u32 | payload
//! payload = key_len u32 | key | value_len i32 (-1 = tombstone) | value
//! ```
//!
//! A record's offset is its index among the frames. On open, every frame is checked;
//! from the first frame that is short, has an absurd length, a bad checksum or an
//! inconsistent payload, the file is cut (and fsync'd) with a warning. Cutting there
//! never loses an acknowledged record: a record is acknowledged only after the fsync
//! that covers it, so a torn write can only be at the tail.
//!
//! # Writes
//!
//! One writer thread does all writes (group commit): it takes every request queued,
//! writes the frames with one `write`, calls `fdatasync` once, then resolves every
//! waiter. If a write or sync fails, the log is poisoned: that batch and every later
//! request fail, because after a failed fsync the kernel may have dropped the data.
//!
//! `scute.lock` in the directory holds an exclusive advisory lock for as long as the
//! writer runs, so two processes never share a directory.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, mpsc};

use fs4::fs_std::FileExt;
use tokio::sync::oneshot;

use crate::log::{BoxFuture, LogEntry, LogError, Offset, SchemaLog};
use crate::record::RawRecord;

/// File name of the log inside the data directory.
pub const LOG_FILE: &str = "schemas.log";
/// File name of the lock file inside the data directory.
pub const LOCK_FILE: &str = "scute.lock";

const MAGIC: &[u8; 8] = b"SCUTLOG1";
const FRAME_HEADER: usize = 8;
/// Smallest payload: an empty key and a tombstone.
const MIN_PAYLOAD: u32 = 8;
/// Larger than any schema a registry accepts; a length above it is corruption.
const MAX_PAYLOAD: u32 = 256 << 20;
/// Upper bound on requests committed by one write + fsync.
const MAX_BATCH: usize = 4096;

/// What [`FileLog::open`] found in the file.
#[derive(Debug)]
pub struct Recovery {
    /// Every complete record, in order, for replay (empty from
    /// [`FileLog::open_with`], which hands them over one by one instead).
    pub entries: Vec<LogEntry>,
    /// How many complete records the log holds.
    pub records: u64,
    /// Size of the file after recovery.
    pub bytes: u64,
    /// Bytes cut off a torn or corrupt tail (0 normally).
    pub truncated_bytes: u64,
}

/// The file-backed [`SchemaLog`].
#[derive(Debug)]
pub struct FileLog {
    tx: mpsc::Sender<Request>,
    shared: Arc<Shared>,
    exited: Option<oneshot::Receiver<()>>,
}

#[derive(Debug)]
struct Shared {
    dir: PathBuf,
    path: PathBuf,
    index: Mutex<Index>,
    /// A read-only handle for `read_from`, apart from the writer's.
    reader: Mutex<File>,
    syncs: AtomicU64,
    /// Records, bytes, fsync times and group-commit sizes, for the metrics.
    stats: crate::stats::LogStats,
    #[cfg(test)]
    fail_writes: std::sync::atomic::AtomicBool,
}

/// Where each durable frame starts, and where the durable part of the file ends.
#[derive(Debug)]
struct Index {
    starts: Vec<u64>,
    end: u64,
}

enum Request {
    Append {
        frame: Vec<u8>,
        reply: oneshot::Sender<Result<Offset, LogError>>,
    },
    Flush {
        reply: oneshot::Sender<Result<(), LogError>>,
    },
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> LogError + '_ {
    move |source| LogError::Io {
        path: path.to_owned(),
        source,
    }
}

impl FileLog {
    /// Opens (creating if needed) the log in `dir`: takes the directory lock, checks
    /// every frame, cuts a torn or corrupt tail, and returns every complete record.
    /// Blocking: call it at startup, before serving.
    pub fn open(dir: &Path) -> Result<(FileLog, Recovery), LogError> {
        let mut entries = Vec::new();
        let (log, mut recovery) = Self::open_with(dir, |entry| entries.push(entry))?;
        recovery.entries = entries;
        Ok((log, recovery))
    }

    /// Like [`FileLog::open`], but hands each complete record to `on_record`
    /// as it is read, so a replay never holds the whole log as records.
    pub fn open_with(
        dir: &Path,
        mut on_record: impl FnMut(LogEntry),
    ) -> Result<(FileLog, Recovery), LogError> {
        Self::open_with_frames(dir, |frame| on_record(frame.to_entry()))
    }

    /// Like [`FileLog::open_with`], but lends each record's bytes from the
    /// read buffer instead of copying them into a [`LogEntry`].
    pub fn open_with_frames(
        dir: &Path,
        mut on_frame: impl FnMut(Frame<'_>),
    ) -> Result<(FileLog, Recovery), LogError> {
        std::fs::create_dir_all(dir).map_err(io_err(dir))?;
        let lock_path = dir.join(LOCK_FILE);
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        match lock_file.try_lock_exclusive() {
            Ok(true) => {}
            Ok(false) => return Err(locked(dir, &lock_path)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(locked(dir, &lock_path));
            }
            Err(e) => return Err(io_err(&lock_path)(e)),
        }

        let path = dir.join(LOG_FILE);
        let existed = path.exists();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(io_err(&path))?;
        if !existed {
            sync_dir(dir)?;
        }
        let file_len = file.metadata().map_err(io_err(&path))?.len();
        let mut head = Vec::with_capacity(MAGIC.len());
        (&file)
            .take(MAGIC.len() as u64)
            .read_to_end(&mut head)
            .map_err(io_err(&path))?;

        let (records, starts, good_end) = if head.len() < MAGIC.len() {
            if !MAGIC.starts_with(&head) {
                return Err(not_a_log(&path));
            }
            if !head.is_empty() {
                tracing::warn!(
                    path = %path.display(),
                    bytes = head.len(),
                    "log file has a torn header; starting an empty log"
                );
            }
            // New (or torn while being created): write the header.
            file.set_len(0).map_err(io_err(&path))?;
            file.seek(SeekFrom::Start(0)).map_err(io_err(&path))?;
            file.write_all(MAGIC).map_err(io_err(&path))?;
            file.sync_all().map_err(io_err(&path))?;
            (0, Vec::new(), MAGIC.len() as u64)
        } else {
            if head != MAGIC {
                return Err(not_a_log(&path));
            }
            // Frames are read one at a time through a buffer, so replaying
            // a large log never holds the whole file in memory.
            let mut reader = io::BufReader::with_capacity(1 << 20, &file);
            let scan = scan_stream(&mut reader, MAGIC.len() as u64, file_len, &mut on_frame)
                .map_err(io_err(&path))?;
            drop(reader);
            if let Some(bad) = &scan.bad {
                let dropped = file_len - scan.good_end;
                let beyond = if bad.frame_end.is_some_and(|end| end < file_len) {
                    "; this is corruption before the end of the log, and every byte from the \
                     first bad frame on is dropped, including any records after it"
                } else {
                    ""
                };
                tracing::warn!(
                    path = %path.display(),
                    position = scan.good_end,
                    dropped_bytes = dropped,
                    "log has a bad frame at byte {} ({}); cutting {} bytes off the end{}",
                    scan.good_end,
                    bad.reason,
                    dropped,
                    beyond
                );
                file.set_len(scan.good_end).map_err(io_err(&path))?;
                file.sync_all().map_err(io_err(&path))?;
            }
            (scan.starts.len() as u64, scan.starts, scan.good_end)
        };
        file.seek(SeekFrom::Start(good_end))
            .map_err(io_err(&path))?;

        let reader = File::open(&path).map_err(io_err(&path))?;
        let shared = Arc::new(Shared {
            dir: dir.to_owned(),
            path: path.clone(),
            index: Mutex::new(Index {
                starts,
                end: good_end,
            }),
            reader: Mutex::new(reader),
            syncs: AtomicU64::new(0),
            stats: crate::stats::LogStats::default(),
            #[cfg(test)]
            fail_writes: std::sync::atomic::AtomicBool::new(false),
        });
        let (tx, rx) = mpsc::channel();
        let (exited_tx, exited) = oneshot::channel();
        let writer = Writer {
            rx,
            file,
            _lock: lock_file,
            shared: shared.clone(),
            end: good_end,
            poisoned: None,
        };
        std::thread::Builder::new()
            .name("scute-log-writer".into())
            .spawn(move || {
                writer.run();
                let _ = exited_tx.send(());
            })
            .map_err(io_err(&path))?;

        let recovery = Recovery {
            entries: Vec::new(),
            records,
            bytes: good_end,
            truncated_bytes: file_len.saturating_sub(good_end),
        };
        Ok((
            FileLog {
                tx,
                shared,
                exited: Some(exited),
            },
            recovery,
        ))
    }

    /// Lets the writer finish every queued request, then waits until it has exited and
    /// released the directory lock. Dropping the log does the same without waiting.
    pub async fn close(mut self) {
        let exited = self.exited.take();
        drop(self);
        if let Some(exited) = exited {
            let _ = exited.await;
        }
    }

    /// The last durable frame, `None` for an empty log.
    pub fn tail(&self) -> Result<Option<LogTail>, LogError> {
        use std::os::unix::fs::FileExt;
        let (records, at, end) = {
            let index = lock(&self.shared.index);
            match index.starts.last() {
                Some(at) => (index.starts.len() as u64, *at, index.end),
                None => return Ok(None),
            }
        };
        let mut header = [0; FRAME_HEADER];
        lock(&self.shared.reader)
            .read_exact_at(&mut header, at)
            .map_err(io_err(&self.shared.path))?;
        let (Ok(len), Some(crc)) = (u32::try_from(end - at), u32_at(&header, 4)) else {
            return Err(LogError::Corrupt {
                path: self.shared.path.clone(),
                position: at,
                reason: "the last frame is longer than a frame can be".into(),
            });
        };
        Ok(Some(LogTail {
            records,
            last: FramePlace { at, len },
            crc,
        }))
    }

    /// Closes the log from a thread that is not the runtime's: waits for
    /// the writer to finish and release the directory's lock.
    pub fn close_blocking(mut self) {
        let exited = self.exited.take();
        drop(self);
        if let Some(exited) = exited {
            let _ = exited.blocking_recv();
        }
    }

    /// The data directory.
    pub fn dir(&self) -> &Path {
        &self.shared.dir
    }

    /// How many `fdatasync` calls the writer has made: fewer than appends when batching
    /// works. For metrics and tests.
    pub fn sync_count(&self) -> u64 {
        self.shared.syncs.load(Ordering::Relaxed)
    }

    #[cfg(test)]
    fn fail_writes(&self) {
        self.shared.fail_writes.store(true, Ordering::SeqCst);
    }
}

fn locked(dir: &Path, lock_file: &Path) -> LogError {
    LogError::Locked {
        dir: dir.to_owned(),
        lock_file: lock_file.to_owned(),
    }
}

fn not_a_log(path: &Path) -> LogError {
    LogError::Corrupt {
        path: path.to_owned(),
        position: 0,
        reason: "not a scute log file (bad header); refusing to touch it".into(),
    }
}

/// Makes a newly created file's directory entry durable.
fn sync_dir(dir: &Path) -> Result<(), LogError> {
    #[cfg(unix)]
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))?;
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

impl SchemaLog for FileLog {
    fn stats(&self) -> Option<&crate::stats::LogStats> {
        Some(&self.shared.stats)
    }

    /// The number of durable records: appends still queued are not counted, so this is
    /// the offset the next append gets only when nothing is in flight.
    fn end_offset(&self) -> BoxFuture<'_, Result<Offset, LogError>> {
        let end = lock(&self.shared.index).starts.len() as Offset;
        Box::pin(std::future::ready(Ok(end)))
    }

    fn read_from(
        &self,
        from: Offset,
        max: usize,
    ) -> BoxFuture<'_, Result<Vec<LogEntry>, LogError>> {
        let shared = self.shared.clone();
        Box::pin(async move {
            tokio::task::spawn_blocking(move || shared.read(from, max))
                .await
                .map_err(|e| LogError::Io {
                    path: self.shared.path.clone(),
                    source: io::Error::other(e),
                })?
        })
    }

    fn append(&self, record: RawRecord) -> BoxFuture<'static, Result<Offset, LogError>> {
        let frame = match encode_frame(&record) {
            Ok(frame) => frame,
            Err(e) => return Box::pin(std::future::ready(Err(e))),
        };
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Request::Append { frame, reply }).is_err() {
            return Box::pin(std::future::ready(Err(LogError::Closed)));
        }
        Box::pin(async move { rx.await.unwrap_or(Err(LogError::Closed)) })
    }

    fn flush(&self) -> BoxFuture<'static, Result<(), LogError>> {
        let (reply, rx) = oneshot::channel();
        if self.tx.send(Request::Flush { reply }).is_err() {
            return Box::pin(std::future::ready(Err(LogError::Closed)));
        }
        Box::pin(async move { rx.await.unwrap_or(Err(LogError::Closed)) })
    }
}

impl Shared {
    fn read(&self, from: Offset, max: usize) -> Result<Vec<LogEntry>, LogError> {
        let (start, stop, count) = {
            let index = lock(&self.index);
            let n = index.starts.len() as u64;
            if from >= n || max == 0 {
                return Ok(Vec::new());
            }
            let to = from.saturating_add(max as u64).min(n);
            let stop = if to < n {
                index.starts[to as usize]
            } else {
                index.end
            };
            (index.starts[from as usize], stop, to - from)
        };
        let mut buf = vec![0; (stop - start) as usize];
        {
            let mut reader = lock(&self.reader);
            reader
                .seek(SeekFrom::Start(start))
                .and_then(|_| reader.read_exact(&mut buf))
                .map_err(io_err(&self.path))?;
        }
        let mut entries = Vec::with_capacity(count as usize);
        let mut pos = 0;
        while pos < buf.len() {
            match parse_frame(&buf[pos..]) {
                Ok((record, len)) => {
                    entries.push(LogEntry {
                        offset: from + entries.len() as u64,
                        record,
                    });
                    pos += len;
                }
                Err(bad) => {
                    return Err(LogError::Corrupt {
                        path: self.path.clone(),
                        position: start + pos as u64,
                        reason: bad.reason.into(),
                    });
                }
            }
        }
        Ok(entries)
    }
}

struct Writer {
    rx: mpsc::Receiver<Request>,
    file: File,
    /// Held, never read: the directory lock lives as long as the writer.
    _lock: File,
    shared: Arc<Shared>,
    end: u64,
    poisoned: Option<String>,
}

impl Writer {
    /// Commits batches until every sender is gone and the queue is empty.
    fn run(mut self) {
        while let Ok(first) = self.rx.recv() {
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match self.rx.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(_) => break,
                }
            }
            self.commit(batch);
        }
    }

    fn commit(&mut self, batch: Vec<Request>) {
        if let Some(reason) = &self.poisoned {
            let reason = reason.clone();
            fail_all(batch, &reason);
            return;
        }
        let mut buf = Vec::new();
        let mut starts = Vec::new();
        for request in &batch {
            if let Request::Append { frame, .. } = request {
                starts.push(self.end + buf.len() as u64);
                buf.extend_from_slice(frame);
            }
        }
        if !buf.is_empty() {
            let started = std::time::Instant::now();
            if let Err(e) = self.write_and_sync(&buf) {
                let reason = format!(
                    "write or fsync of {} failed: {e}",
                    self.shared.path.display()
                );
                tracing::error!("{reason}; the log accepts no more writes until restarted");
                // Best effort: take the unacknowledged frames back off the file.
                let _ = self.file.set_len(self.end);
                self.poisoned = Some(reason.clone());
                fail_all(batch, &reason);
                return;
            }
            self.shared.syncs.fetch_add(1, Ordering::Relaxed);
            self.shared
                .stats
                .synced(starts.len(), buf.len(), started.elapsed());
        }
        let mut offset = {
            let mut index = lock(&self.shared.index);
            let first = index.starts.len() as Offset;
            index.starts.extend_from_slice(&starts);
            self.end += buf.len() as u64;
            index.end = self.end;
            first
        };
        for request in batch {
            match request {
                Request::Append { reply, .. } => {
                    let _ = reply.send(Ok(offset));
                    offset += 1;
                }
                Request::Flush { reply } => {
                    let _ = reply.send(Ok(()));
                }
            }
        }
    }

    fn write_and_sync(&mut self, buf: &[u8]) -> io::Result<()> {
        #[cfg(test)]
        if self.shared.fail_writes.load(Ordering::SeqCst) {
            return Err(io::Error::other("injected write failure"));
        }
        self.file.write_all(buf)?;
        self.file.sync_data()
    }
}

fn fail_all(batch: Vec<Request>, reason: &str) {
    let error = || LogError::Poisoned {
        reason: reason.to_owned(),
    };
    for request in batch {
        match request {
            Request::Append { reply, .. } => {
                let _ = reply.send(Err(error()));
            }
            Request::Flush { reply } => {
                let _ = reply.send(Err(error()));
            }
        }
    }
}

fn encode_frame(record: &RawRecord) -> Result<Vec<u8>, LogError> {
    let value_len = record.value.as_ref().map_or(0, Vec::len);
    let payload_len = 8 + record.key.len() + value_len;
    let too_large = LogError::RecordTooLarge { bytes: payload_len };
    if payload_len > MAX_PAYLOAD as usize {
        return Err(too_large);
    }
    // Both fit: the payload is at most MAX_PAYLOAD, far below i32::MAX.
    let (Ok(key_len), Ok(payload_len32)) =
        (u32::try_from(record.key.len()), u32::try_from(payload_len))
    else {
        return Err(too_large);
    };
    let mut frame = Vec::with_capacity(FRAME_HEADER + payload_len);
    frame.extend_from_slice(&payload_len32.to_le_bytes());
    frame.extend_from_slice(&[0; 4]);
    frame.extend_from_slice(&key_len.to_le_bytes());
    frame.extend_from_slice(&record.key);
    match &record.value {
        None => frame.extend_from_slice(&(-1i32).to_le_bytes()),
        Some(value) => {
            let Ok(len) = i32::try_from(value.len()) else {
                return Err(too_large);
            };
            frame.extend_from_slice(&len.to_le_bytes());
            frame.extend_from_slice(value);
        }
    }
    let crc = crc32c::crc32c(&frame[FRAME_HEADER..]);
    frame[4..8].copy_from_slice(&crc.to_le_bytes());
    Ok(frame)
}

struct BadFrame {
    reason: &'static str,
    /// Where the bad frame would end if its length field is believed.
    frame_end: Option<u64>,
}

fn u32_at(buf: &[u8], at: usize) -> Option<u32> {
    let bytes = buf.get(at..at + 4)?;
    Some(u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
}

/// A complete record of the log, borrowed from the buffer it was read into.
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a> {
    pub offset: Offset,
    /// Where the frame sits in the file, for [`FrameReader::read_value`].
    pub place: FramePlace,
    pub key: &'a [u8],
    /// `None` is a tombstone.
    pub value: Option<&'a [u8]>,
}

impl Frame<'_> {
    /// The record, copied out of the buffer.
    pub fn to_entry(&self) -> LogEntry {
        LogEntry {
            offset: self.offset,
            record: RawRecord {
                key: self.key.to_vec(),
                value: self.value.map(<[u8]>::to_vec),
            },
        }
    }
}

/// Where a durable frame sits in the log file: enough to read its record
/// again without the index, as the state does for a schema's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FramePlace {
    /// The byte where the frame starts.
    pub at: u64,
    /// The frame's length, header included.
    pub len: u32,
}

/// The last durable frame of a log: how many records the log holds, where
/// the last one is and its checksum. A snapshot of the state names the tail
/// it covers, and is used only where the log still has that frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogTail {
    pub records: u64,
    pub last: FramePlace,
    pub crc: u32,
}

/// Reads single frames of a log file back by place. Positioned reads need
/// no seek and no lock, so every reader shares one handle. Frames are never
/// moved: the log only grows, and only a torn tail, never read back, is cut.
#[derive(Debug)]
pub struct FrameReader {
    file: File,
    path: PathBuf,
}

impl FrameReader {
    /// Opens the log file of the data directory `dir` for reading.
    pub fn open(dir: &Path) -> Result<Self, LogError> {
        let path = dir.join(LOG_FILE);
        let file = File::open(&path).map_err(io_err(&path))?;
        Ok(Self { file, path })
    }

    /// Whether the log holds a frame at `tail.last` with `tail.crc` as its
    /// checksum (the frame itself was checked when the log was opened).
    pub fn holds(&self, tail: &LogTail) -> Result<bool, LogError> {
        use std::os::unix::fs::FileExt;
        let mut header = [0; FRAME_HEADER];
        match self.file.read_exact_at(&mut header, tail.last.at) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(false),
            Err(e) => return Err(io_err(&self.path)(e)),
        }
        let len = u32_at(&header, 0).map(|n| n as usize + FRAME_HEADER);
        Ok(len == Some(tail.last.len as usize) && u32_at(&header, 4) == Some(tail.crc))
    }

    /// The value of the record framed at `place` (`None`: a tombstone), its
    /// checksum checked, so a file changed underneath is an error, not a
    /// wrong answer.
    pub fn read_value(&self, place: FramePlace) -> Result<Option<Vec<u8>>, LogError> {
        use std::os::unix::fs::FileExt;
        let mut buf = vec![0; place.len as usize];
        self.file
            .read_exact_at(&mut buf, place.at)
            .map_err(io_err(&self.path))?;
        let reason = match parse_frame_ref(&buf, 0) {
            Ok((frame, len)) if len == buf.len() => return Ok(frame.value.map(<[u8]>::to_vec)),
            Ok(_) => "the frame's length changed",
            Err(bad) => bad.reason,
        };
        Err(LogError::Corrupt {
            path: self.path.clone(),
            position: place.at,
            reason: reason.to_owned(),
        })
    }
}

/// Parses the frame at the start of `buf`: the record and the frame's length.
fn parse_frame(buf: &[u8]) -> Result<(RawRecord, usize), BadFrame> {
    let (frame, len) = parse_frame_ref(buf, 0)?;
    Ok((frame.to_entry().record, len))
}

/// Parses the frame at the start of `buf`, record `offset` of the log: the
/// record, borrowed, and the frame's length.
fn parse_frame_ref(buf: &[u8], offset: Offset) -> Result<(Frame<'_>, usize), BadFrame> {
    let bad = |reason, frame_end| Err(BadFrame { reason, frame_end });
    let (Some(len), Some(crc)) = (u32_at(buf, 0), u32_at(buf, 4)) else {
        return bad("incomplete frame header", None);
    };
    if !(MIN_PAYLOAD..=MAX_PAYLOAD).contains(&len) {
        return bad("absurd frame length", None);
    }
    let frame_len = FRAME_HEADER + len as usize;
    let Some(payload) = buf.get(FRAME_HEADER..frame_len) else {
        return bad("incomplete frame", None);
    };
    let end = Some(frame_len as u64);
    if crc32c::crc32c(payload) != crc {
        return bad("checksum mismatch", end);
    }
    let Some(key_len) = u32_at(payload, 0).map(|n| n as usize) else {
        return bad("malformed payload", end);
    };
    let Some(key) = payload.get(4..4 + key_len) else {
        return bad("malformed payload", end);
    };
    let Some(value_len) = u32_at(payload, 4 + key_len).map(|n| n as i32) else {
        return bad("malformed payload", end);
    };
    let rest = &payload[8 + key_len..];
    let value = match value_len {
        -1 if rest.is_empty() => None,
        n if n >= 0 && n as usize == rest.len() => Some(rest),
        _ => return bad("malformed payload", end),
    };
    let place = FramePlace {
        at: 0,
        len: frame_len as u32,
    };
    Ok((
        Frame {
            offset,
            place,
            key,
            value,
        },
        frame_len,
    ))
}

struct Scan {
    starts: Vec<u64>,
    good_end: u64,
    bad: Option<BadFrame>,
}

/// Reads frames from `from` until the end or the first bad frame.
fn scan(buf: &[u8], from: usize, on_record: &mut dyn FnMut(LogEntry)) -> Scan {
    let mut reader = buf.get(from..).unwrap_or_default();
    let mut on_frame = |frame: Frame<'_>| on_record(frame.to_entry());
    // Reading a slice cannot fail: a short slice is a short frame, judged
    // by `parse_frame`, and `read_exact` is never asked past its end.
    scan_stream(&mut reader, from as u64, buf.len() as u64, &mut on_frame).unwrap_or(Scan {
        starts: Vec::new(),
        good_end: from as u64,
        bad: None,
    })
}

/// What [`read_frames`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameScan {
    /// Complete records read.
    pub records: u64,
    /// The byte after the last complete frame: where open would cut.
    pub good_end: u64,
    /// Why reading stopped before the end, if it did.
    pub bad: Option<&'static str>,
}

/// Reads a whole log file held in memory (header included) as opening it
/// does, handing each complete record to `on_record`, up to the end or the
/// first bad frame. Never fails: anything unreadable is a bad frame.
pub fn read_frames(file: &[u8], on_record: &mut dyn FnMut(LogEntry)) -> FrameScan {
    if !file.starts_with(MAGIC) {
        return FrameScan {
            records: 0,
            good_end: 0,
            bad: Some("not a Scute log"),
        };
    }
    let scan = scan(file, MAGIC.len(), on_record);
    FrameScan {
        records: scan.starts.len() as u64,
        good_end: scan.good_end,
        bad: scan.bad.map(|b| b.reason),
    }
}

/// Reads frames from `reader`, which stands at byte `from` of a file of
/// `file_len` bytes, until the end or the first bad frame. Only one frame
/// is held at a time.
fn scan_stream(
    reader: &mut impl Read,
    from: u64,
    file_len: u64,
    on_frame: &mut dyn FnMut(Frame<'_>),
) -> io::Result<Scan> {
    let mut starts = Vec::new();
    let mut pos = from;
    let mut frame = Vec::new();
    while pos < file_len {
        let remaining = file_len - pos;
        // Read the header, then as much of the payload as the header claims
        // and the file holds; `parse_frame` judges what was read.
        let header = FRAME_HEADER.min(usize::try_from(remaining).unwrap_or(FRAME_HEADER));
        frame.resize(header, 0);
        reader.read_exact(&mut frame)?;
        let len = u32_at(&frame, 0).filter(|len| (MIN_PAYLOAD..=MAX_PAYLOAD).contains(len));
        if let Some(len) = len.filter(|_| frame.len() == FRAME_HEADER) {
            let available = remaining - FRAME_HEADER as u64;
            let payload = u64::from(len).min(available) as usize;
            frame.resize(FRAME_HEADER + payload, 0);
            reader.read_exact(&mut frame[FRAME_HEADER..])?;
        }
        match parse_frame_ref(&frame, starts.len() as Offset) {
            Ok((mut record, len)) => {
                record.place.at = pos;
                on_frame(record);
                starts.push(pos);
                pos += len as u64;
            }
            Err(mut bad) => {
                bad.frame_end = bad.frame_end.map(|end| end + pos);
                return Ok(Scan {
                    starts,
                    good_end: pos,
                    bad: Some(bad),
                });
            }
        }
    }
    Ok(Scan {
        starts,
        good_end: pos,
        bad: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn rec(i: usize) -> RawRecord {
        RawRecord {
            key: format!("{{\"keytype\":\"NOOP\",\"n\":{i}}}").into_bytes(),
            value: if i.is_multiple_of(3) {
                None
            } else {
                Some(format!("value {i}").repeat(i % 5).into_bytes())
            },
        }
    }

    fn records(entries: &[LogEntry]) -> Vec<RawRecord> {
        entries.iter().map(|e| e.record.clone()).collect()
    }

    async fn write_log(dir: &Path, n: usize) {
        let (log, recovery) = FileLog::open(dir).unwrap();
        let first = recovery.entries.len();
        for i in 0..n {
            assert_eq!(log.append(rec(i)).await.unwrap(), (first + i) as u64);
        }
        log.close().await;
    }

    #[tokio::test]
    async fn round_trip_and_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (log, recovery) = FileLog::open(dir.path()).unwrap();
        assert!(recovery.entries.is_empty());
        assert_eq!(recovery.bytes, MAGIC.len() as u64);
        assert_eq!(log.end_offset().await.unwrap(), 0);
        for i in 0..10 {
            assert_eq!(log.append(rec(i)).await.unwrap(), i as u64);
        }
        log.flush().await.unwrap();
        assert_eq!(log.end_offset().await.unwrap(), 10);
        let all = log.read_from(0, usize::MAX).await.unwrap();
        assert_eq!(records(&all), (0..10).map(rec).collect::<Vec<_>>());
        assert_eq!(
            all.iter().map(|e| e.offset).collect::<Vec<_>>(),
            (0..10).collect::<Vec<_>>()
        );
        let some = log.read_from(4, 3).await.unwrap();
        assert_eq!(
            some.iter().map(|e| e.offset).collect::<Vec<_>>(),
            vec![4, 5, 6]
        );
        assert_eq!(records(&some), (4..7).map(rec).collect::<Vec<_>>());
        assert!(log.read_from(10, 5).await.unwrap().is_empty());
        log.close().await;

        let (log, recovery) = FileLog::open(dir.path()).unwrap();
        assert_eq!(recovery.truncated_bytes, 0);
        assert_eq!(
            records(&recovery.entries),
            (0..10).map(rec).collect::<Vec<_>>()
        );
        assert_eq!(log.end_offset().await.unwrap(), 10);
        assert_eq!(log.append(rec(10)).await.unwrap(), 10);
        drop(log);
    }

    #[tokio::test]
    async fn torn_tail_at_every_byte_of_last_frame() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), 5).await;
        let full = std::fs::read(dir.path().join(LOG_FILE)).unwrap();
        let last_start = scan(&full, MAGIC.len(), &mut |_| {}).starts[4] as usize;
        for cut in last_start..full.len() {
            let copy = tempfile::tempdir().unwrap();
            std::fs::write(copy.path().join(LOG_FILE), &full[..cut]).unwrap();
            let (log, recovery) = FileLog::open(copy.path()).unwrap();
            assert_eq!(
                records(&recovery.entries),
                (0..4).map(rec).collect::<Vec<_>>()
            );
            assert_eq!(recovery.truncated_bytes, (cut - last_start) as u64);
            assert_eq!(
                std::fs::metadata(copy.path().join(LOG_FILE)).unwrap().len(),
                last_start as u64
            );
            // The log goes on after the cut.
            assert_eq!(log.append(rec(99)).await.unwrap(), 4);
            log.close().await;
            let (_log, recovery) = FileLog::open(copy.path()).unwrap();
            assert_eq!(recovery.entries.len(), 5);
            assert_eq!(recovery.entries[4].record, rec(99));
        }
    }

    #[tokio::test]
    async fn torn_header_starts_empty() {
        for cut in 0..MAGIC.len() {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(LOG_FILE), &MAGIC[..cut]).unwrap();
            let (log, recovery) = FileLog::open(dir.path()).unwrap();
            assert!(recovery.entries.is_empty());
            assert_eq!(log.append(rec(1)).await.unwrap(), 0);
            log.close().await;
            let (_log, recovery) = FileLog::open(dir.path()).unwrap();
            assert_eq!(records(&recovery.entries), vec![rec(1)]);
        }
    }

    #[test]
    fn foreign_file_is_refused_untouched() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(LOG_FILE), b"hello world, not a log").unwrap();
        let err = FileLog::open(dir.path()).unwrap_err();
        assert!(matches!(err, LogError::Corrupt { .. }), "{err}");
        assert_eq!(
            std::fs::read(dir.path().join(LOG_FILE)).unwrap(),
            b"hello world, not a log"
        );
    }

    #[tokio::test]
    async fn flipped_byte_cuts_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), 6).await;
        let path = dir.path().join(LOG_FILE);
        let full = std::fs::read(&path).unwrap();
        let starts = scan(&full, MAGIC.len(), &mut |_| {}).starts;
        // In the last frame: the last frame goes.
        let mut bytes = full.clone();
        bytes[full.len() - 1] ^= 0x40;
        std::fs::write(&path, &bytes).unwrap();
        let (log, recovery) = FileLog::open(dir.path()).unwrap();
        assert_eq!(
            records(&recovery.entries),
            (0..5).map(rec).collect::<Vec<_>>()
        );
        log.close().await;
        // In the middle (frame 2's key): frames 2.. go, with a warning.
        let mut bytes = full.clone();
        bytes[starts[2] as usize + FRAME_HEADER + 5] ^= 0x01;
        std::fs::write(&path, &bytes).unwrap();
        let (_log, recovery) = FileLog::open(dir.path()).unwrap();
        assert_eq!(
            records(&recovery.entries),
            (0..2).map(rec).collect::<Vec<_>>()
        );
        assert_eq!(recovery.truncated_bytes, full.len() as u64 - starts[2]);
    }

    #[test]
    fn absurd_length_cuts_the_tail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(LOG_FILE);
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&encode_frame(&rec(1)).unwrap());
        let good = bytes.len();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[0; 20]);
        std::fs::write(&path, &bytes).unwrap();
        let (_log, recovery) = FileLog::open(dir.path()).unwrap();
        assert_eq!(records(&recovery.entries), vec![rec(1)]);
        assert_eq!(std::fs::metadata(&path).unwrap().len(), good as u64);
    }

    #[tokio::test]
    async fn second_open_fails_while_first_is_alive() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let err = FileLog::open(dir.path()).unwrap_err();
        assert!(matches!(err, LogError::Locked { .. }));
        let message = err.to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(
            message.contains("another scute process holds it"),
            "{message}"
        );
        log.close().await;
        // Released once the first has closed.
        let (_log, _) = FileLog::open(dir.path()).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn concurrent_appends_get_dense_offsets_in_queue_order() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let log: Arc<dyn SchemaLog> = Arc::new(log);
        // Queueing under a lock fixes the order: the n-th queued record gets offset n.
        let order = Arc::new(tokio::sync::Mutex::new(0usize));
        let mut tasks = Vec::new();
        for _ in 0..50 {
            let log = log.clone();
            let order = order.clone();
            tasks.push(tokio::spawn(async move {
                let mut got = Vec::new();
                for _ in 0..10 {
                    let (n, fut) = {
                        let mut next = order.lock().await;
                        let n = *next;
                        *next += 1;
                        (n, log.append(rec(n)))
                    };
                    got.push((n, fut.await.unwrap()));
                }
                got
            }));
        }
        let mut offsets = Vec::new();
        for task in tasks {
            for (n, offset) in task.await.unwrap() {
                assert_eq!(n as u64, offset);
                offsets.push(offset);
            }
        }
        offsets.sort_unstable();
        assert_eq!(offsets, (0..500).collect::<Vec<_>>());
        drop(log);
        // The writer exits soon after the drop; wait for the lock to be free.
        let recovery = loop {
            match FileLog::open(dir.path()) {
                Ok((_log, recovery)) => break recovery,
                Err(LogError::Locked { .. }) => tokio::time::sleep(Duration::from_millis(10)).await,
                Err(e) => panic!("{e}"),
            }
        };
        assert_eq!(
            records(&recovery.entries),
            (0..500).map(rec).collect::<Vec<_>>()
        );
    }

    #[tokio::test]
    async fn appends_are_batched() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let futures: Vec<_> = (0..200).map(|i| log.append(rec(i))).collect();
        for (i, fut) in futures.into_iter().enumerate() {
            assert_eq!(fut.await.unwrap(), i as u64);
        }
        let syncs = log.sync_count();
        assert!((1..200).contains(&syncs), "{syncs} syncs for 200 appends");
        // A flush with nothing pending needs no sync.
        log.flush().await.unwrap();
        assert_eq!(log.sync_count(), syncs);
    }

    #[tokio::test]
    async fn failed_write_poisons_the_log() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        assert_eq!(log.append(rec(1)).await.unwrap(), 0);
        log.fail_writes();
        let err = log.append(rec(2)).await.unwrap_err();
        assert!(matches!(err, LogError::Poisoned { .. }), "{err}");
        assert!(err.to_string().contains("poisoned"), "{err}");
        // Every later request fails too, even a flush.
        assert!(matches!(
            log.append(rec(3)).await,
            Err(LogError::Poisoned { .. })
        ));
        assert!(matches!(log.flush().await, Err(LogError::Poisoned { .. })));
        assert_eq!(log.end_offset().await.unwrap(), 1);
        log.close().await;
        let (_log, recovery) = FileLog::open(dir.path()).unwrap();
        assert_eq!(records(&recovery.entries), vec![rec(1)]);
    }

    #[tokio::test]
    async fn drop_finishes_queued_appends() {
        let dir = tempfile::tempdir().unwrap();
        let (log, _) = FileLog::open(dir.path()).unwrap();
        let futures: Vec<_> = (0..20).map(|i| log.append(rec(i))).collect();
        drop(log);
        for (i, fut) in futures.into_iter().enumerate() {
            assert_eq!(fut.await.unwrap(), i as u64);
        }
    }

    #[tokio::test]
    async fn borrowed_frames_are_the_records() {
        let dir = tempfile::tempdir().unwrap();
        write_log(dir.path(), 12).await;
        let mut seen = Vec::new();
        let (_log, recovery) =
            FileLog::open_with_frames(dir.path(), |frame| seen.push(frame.to_entry())).unwrap();
        assert_eq!(recovery.records, 12);
        assert_eq!(records(&seen), (0..12).map(rec).collect::<Vec<_>>());
        assert_eq!(
            seen.iter().map(|e| e.offset).collect::<Vec<_>>(),
            (0..12).collect::<Vec<_>>()
        );
    }

    #[test]
    fn frame_round_trip() {
        for i in 0..10 {
            let frame = encode_frame(&rec(i)).unwrap();
            let (record, len) = parse_frame(&frame).map_err(|b| b.reason).unwrap();
            assert_eq!((record, len), (rec(i), frame.len()));
        }
    }
}
