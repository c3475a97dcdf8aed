//! The texts lately read back from the log, so the ids asked for again and
//! again (a consumer group starting up) cost no read and no JSON.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};

/// Locks taken apart, so concurrent lookups seldom wait on each other.
const SHARDS: usize = 16;
/// What an entry costs beside its text: the map's slot, the queue's, the
/// `Arc`'s counts.
const ENTRY_OVERHEAD: usize = 64;

/// Texts by their frame's place in the log, up to a byte budget; the oldest
/// entry goes first when a new one needs room.
#[derive(Debug)]
pub(super) struct TextCache {
    shards: Vec<Mutex<Shard>>,
    shard_budget: usize,
}

#[derive(Debug, Default)]
struct Shard {
    texts: super::FastMap<u64, Arc<str>>,
    order: VecDeque<u64>,
    bytes: usize,
}

impl TextCache {
    /// A cache holding about `budget` bytes.
    pub(super) fn new(budget: usize) -> Self {
        Self {
            shards: (0..SHARDS).map(|_| Mutex::default()).collect(),
            shard_budget: budget / SHARDS,
        }
    }

    fn shard(&self, at: u64) -> &Mutex<Shard> {
        // Frames start at scattered byte offsets: mix the bits, then pick.
        let mixed = at.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60;
        &self.shards[mixed as usize % SHARDS]
    }

    pub(super) fn get(&self, at: u64) -> Option<Arc<str>> {
        let shard = self
            .shard(at)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        shard.texts.get(&at).cloned()
    }

    pub(super) fn insert(&self, at: u64, text: &str) {
        let cost = text.len() + ENTRY_OVERHEAD;
        if cost > self.shard_budget / 4 {
            return;
        }
        let mut shard = self
            .shard(at)
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.texts.contains_key(&at) {
            return;
        }
        while shard.bytes + cost > self.shard_budget {
            let Some(oldest) = shard.order.pop_front() else {
                break;
            };
            if let Some(gone) = shard.texts.remove(&oldest) {
                shard.bytes -= gone.len() + ENTRY_OVERHEAD;
            }
        }
        shard.texts.insert(at, text.into());
        shard.order.push_back(at);
        shard.bytes += cost;
    }

    /// Bytes held, as counted against the budget.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(PoisonError::into_inner).bytes)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_keeps_to_its_budget_and_the_newest_texts() {
        let cache = TextCache::new(SHARDS * 4096);
        let text = "x".repeat(100);
        for at in 0..10_000u64 {
            cache.insert(at * 517, &text);
            assert!(cache.bytes() <= SHARDS * 4096);
        }
        assert_eq!(cache.get(9_999 * 517).as_deref(), Some(text.as_str()));
        assert!(cache.get(0).is_none());
        // A text too large for a shard is never held.
        cache.insert(1, &"y".repeat(4096));
        assert!(cache.get(1).is_none());
    }
}
