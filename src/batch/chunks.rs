//! The batch engine: items in chunks on the thread pool, two chunks at a time, each chunk's
//! keys made durable before its certificates, and finished chunks recorded in input order by a
//! writer thread.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use rayon::prelude::*;

use super::run::{Outcome, PendingCert, Records, Run};
use super::{CHUNK, Done, Error, ManifestEntry, Progress, Result, Summary};
use crate::workspace::Workspace;

/// How many signed rounds may wait for the disk before signing pauses (bounds memory).
const PENDING: usize = 16;

/// How many rounds are on the thread pool at once.
const IN_FLIGHT: usize = 2;

/// Runs `items` through `work` chunk by chunk on `pool`, two chunks at a time. A second thread
/// makes finished chunks durable (one `syncfs`) and then appends their manifest lines in input
/// order, while the pool works on. Stops at the first error (files of finished chunks
/// stay, complete, and are recorded).
///
/// Keys come first: the items of a chunk that made a key and wait with their certificate
/// ([`Outcome::Pending`]) are written after one `syncfs` of the chunk's keys.
pub(super) fn run_chunks<'r, T: Sync + Send>(
    run: &Run<'_>,
    pool: &rayon::ThreadPool,
    items: impl Iterator<Item = Result<T>>,
    records: &mut Records,
    progress: &dyn Progress,
    work: impl Fn(&T) -> Result<Outcome<'r>> + Sync,
) -> Result<Summary> {
    let mut summary = Summary::default();
    let interrupted = || run.interrupt.is_some_and(|f| f.load(Ordering::Relaxed));
    let writer_error: Mutex<Option<Error>> = Mutex::new(None);
    let failed = || writer_error.lock().map(|e| e.is_some()).unwrap_or(true);
    let result = std::thread::scope(|scope| -> Result<()> {
        // Up to PENDING finished chunks wait for the disk (memory stays bounded); the writer
        // takes all that are waiting, makes them durable with one syncfs, then records them.
        let (tx, rx) = std::sync::mpsc::sync_channel::<(bool, Vec<ManifestEntry>)>(PENDING);
        let ws = run.ws;
        let writer_error = &writer_error;
        let Records { manifest, index } = records;
        scope.spawn(move || {
            while let Ok(first) = rx.recv() {
                let mut wrote = first.0;
                let mut entries = first.1;
                while let Ok((w, more)) = rx.try_recv() {
                    wrote |= w;
                    entries.extend(more);
                }
                let step = (|| -> Result<()> {
                    if wrote {
                        ws.sync_all()?;
                    }
                    if let Some(m) = manifest.as_mut() {
                        m.append(ws, &entries)?;
                    }
                    if let Some(index) = index.as_mut() {
                        let lines: Vec<_> =
                            entries.iter().filter_map(|e| e.record.clone()).collect();
                        index.append(ws, &lines)?;
                    }
                    Ok(())
                })();
                if let Err(e) = step {
                    if let Ok(mut slot) = writer_error.lock() {
                        slot.get_or_insert(e);
                    }
                    break;
                }
            }
        });
        let mut items = items;
        let mut take = || -> Result<Vec<T>> { items.by_ref().take(CHUNK).collect() };
        // Up to IN_FLIGHT chunks are on the pool at once, so threads that finish their share
        // of one chunk go on with the next instead of waiting at its end; results are taken
        // back in input order.
        // A chunk that panicked still reports (with the panic, re-raised here), so the wait
        // below cannot hang.
        let (done_tx, done_rx) =
            std::sync::mpsc::channel::<(usize, std::thread::Result<Vec<Result<Outcome<'r>>>>)>();
        let work = &work;
        let mut outcome: Result<()> = Ok(());
        pool.in_place_scope(|scope| {
            let mut finished: BTreeMap<usize, Vec<Result<Outcome<'r>>>> = BTreeMap::new();
            let (mut spawned, mut taken_back, mut input_done) = (0usize, 0usize, false);
            loop {
                while !input_done
                    && outcome.is_ok()
                    && !interrupted()
                    && spawned - taken_back < IN_FLIGHT
                {
                    let chunk = match take() {
                        Ok(chunk) if chunk.is_empty() => {
                            input_done = true;
                            break;
                        }
                        Ok(chunk) => chunk,
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    };
                    let tx = done_tx.clone();
                    let k = spawned;
                    scope.spawn(move |_| {
                        let report = |outcome: &Result<Outcome<'r>>| match outcome {
                            Ok(o) => o.done().into_iter().for_each(|d| progress.item(d)),
                            Err(_) => progress.item(Done::Failed),
                        };
                        let results =
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                                let results: Vec<Result<Outcome<'r>>> = chunk
                                    .par_iter()
                                    .map(|item| {
                                        if interrupted() {
                                            return Ok(Outcome::Left);
                                        }
                                        let outcome = work(item);
                                        report(&outcome);
                                        outcome
                                    })
                                    .collect();
                                certificates_after_keys(run.ws, results, &report)
                            }));
                        let _ = tx.send((k, results));
                    });
                    spawned += 1;
                }
                if spawned == taken_back {
                    break;
                }
                let Ok((k, results)) = done_rx.recv() else {
                    break;
                };
                finished.insert(
                    k,
                    results.unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                );
                // Record finished chunks in input order, even after an error (their files
                // are complete).
                while let Some(results) = finished.remove(&taken_back) {
                    taken_back += 1;
                    let mut entries = Vec::new();
                    let mut wrote = false;
                    for o in results {
                        match o {
                            Ok(Outcome::Issued(e)) => {
                                summary.issued += 1;
                                wrote = true;
                                entries.push(e);
                            }
                            Ok(Outcome::Skipped(e)) => {
                                summary.skipped += 1;
                                entries.extend(e);
                            }
                            Ok(Outcome::Rejected(r)) => summary.rejected.push(r),
                            Ok(Outcome::Left) => summary.left += 1,
                            // Written after its key by `certificates_after_keys`.
                            Ok(Outcome::Pending(_)) => summary.left += 1,
                            Err(e) => {
                                if outcome.is_ok() {
                                    outcome = Err(e);
                                }
                            }
                        }
                    }
                    if tx.send((wrote, entries)).is_err() || failed() {
                        input_done = true;
                    }
                }
            }
        });
        outcome?;
        Ok(())
    });
    if let Some(e) = writer_error.into_inner().ok().flatten() {
        return Err(e);
    }
    result.map(|()| summary)
}

/// The second step of a chunk: once its new keys are durable (one `syncfs`), the
/// certificates waiting for them are written. If the sync fails they are not written (their
/// keys stay, to be certified by a re-run).
fn certificates_after_keys<'r>(
    ws: &Workspace,
    results: Vec<Result<Outcome<'r>>>,
    report: &(dyn Fn(&Result<Outcome<'r>>) + Sync),
) -> Vec<Result<Outcome<'r>>> {
    if !results.iter().any(|r| matches!(r, Ok(Outcome::Pending(_)))) {
        return results;
    }
    let written = |r: Result<Outcome<'r>>,
                   write: &dyn Fn(PendingCert<'r>) -> Result<Outcome<'r>>| {
        let Ok(Outcome::Pending(cert)) = r else {
            return r;
        };
        let outcome = write(cert);
        report(&outcome);
        outcome
    };
    if let Err(e) = ws.sync_all() {
        // The first waiting item fails with the sync's error (the run stops with it); the
        // others are left unwritten.
        let first = std::cell::Cell::new(Some(Error::from(e)));
        let fail = |_: PendingCert<'r>| first.take().map_or(Ok(Outcome::Left), Err);
        return results.into_iter().map(|r| written(r, &fail)).collect();
    }
    results
        .into_par_iter()
        .map(|r| written(r, &PendingCert::write))
        .collect()
}
