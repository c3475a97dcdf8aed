//! The caches a serializer needs: answers that never change (a schema by id
//! or guid, the id of a registered schema) kept up to a capacity, and
//! "latest" answers kept for a time-to-live.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A map of at most `capacity` entries; the oldest entry goes first.
#[derive(Debug)]
pub(crate) struct Bounded<K, V> {
    inner: Mutex<Entries<K, V>>,
    capacity: usize,
    ttl: Option<Duration>,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, (V, Instant)>,
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V: Clone> Bounded<K, V> {
    /// Entries kept until evicted.
    pub(crate) fn new(capacity: usize) -> Self {
        Self::with_ttl(capacity, None)
    }

    /// Entries that also expire `ttl` after they were stored.
    pub(crate) fn with_ttl(capacity: usize, ttl: Option<Duration>) -> Self {
        Self {
            inner: Mutex::new(Entries {
                map: HashMap::new(),
                order: VecDeque::new(),
            }),
            capacity,
            ttl,
        }
    }

    /// The value, unless it expired (it then stays until stored again or
    /// evicted, so `order` always holds exactly the map's keys, oldest
    /// first).
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.lock();
        let (value, stored) = entries.map.get(key)?;
        if self.ttl.is_some_and(|ttl| stored.elapsed() >= ttl) {
            return None;
        }
        Some(value.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        if self.capacity == 0 {
            return;
        }
        let mut entries = self.lock();
        // A key stored again (it had expired) is the newest now.
        if entries
            .map
            .insert(key.clone(), (value, Instant::now()))
            .is_some()
            && let Some(at) = entries.order.iter().position(|k| *k == key)
        {
            entries.order.remove(at);
        }
        entries.order.push_back(key);
        if entries.map.len() > self.capacity
            && let Some(oldest) = entries.order.pop_front()
        {
            entries.map.remove(&oldest);
        }
    }

    pub(crate) fn remove_where(&self, mut doomed: impl FnMut(&K) -> bool) {
        let mut entries = self.lock();
        entries.map.retain(|k, _| !doomed(k));
        let Entries { map, order } = &mut *entries;
        order.retain(|k| map.contains_key(k));
    }

    pub(crate) fn clear(&self) {
        let mut entries = self.lock();
        entries.map.clear();
        entries.order.clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Entries<K, V>> {
        // A panic while holding the lock leaves a map that is still valid.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_at_most_capacity_dropping_the_oldest() {
        let cache = Bounded::new(2);
        cache.put(1, "a");
        cache.put(2, "b");
        cache.put(3, "c");
        assert_eq!(cache.get(&1), None);
        assert_eq!(cache.get(&2), Some("b"));
        assert_eq!(cache.get(&3), Some("c"));
        cache.put(3, "c2");
        assert_eq!(cache.get(&2), Some("b"));
        assert_eq!(cache.get(&3), Some("c2"));
    }

    #[test]
    fn a_refreshed_entry_is_not_evicted_for_its_old_place() {
        let cache = Bounded::with_ttl(2, Some(Duration::from_millis(30)));
        cache.put("a", 1);
        cache.put("b", 2);
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"a"), None);
        cache.put("a", 3);
        cache.put("c", 4);
        // "b" is the oldest stored; the refreshed "a" stays.
        assert!(!cache.lock().map.contains_key(&"b"));
        assert_eq!(cache.get(&"c"), Some(4));
        assert_eq!(cache.lock().map.get(&"a").map(|(v, _)| *v), Some(3));
        // After a removal, eviction still takes the oldest left.
        cache.remove_where(|k| *k == "c");
        cache.put("d", 5);
        cache.put("e", 6);
        assert!(!cache.lock().map.contains_key(&"a"));
        assert_eq!(cache.lock().order.len(), 2);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = Bounded::with_ttl(10, Some(Duration::from_millis(30)));
        cache.put("latest", 1);
        assert_eq!(cache.get(&"latest"), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(cache.get(&"latest"), None);
    }

    #[test]
    fn zero_capacity_caches_nothing_and_removal_works() {
        let none = Bounded::new(0);
        none.put(1, 1);
        assert_eq!(none.get(&1), None);
        let cache = Bounded::new(10);
        for i in 0..5 {
            cache.put(i, i);
        }
        cache.remove_where(|k| k % 2 == 0);
        assert_eq!((cache.get(&0), cache.get(&1)), (None, Some(1)));
        cache.clear();
        assert_eq!(cache.get(&1), None);
    }
}
