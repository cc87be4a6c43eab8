//! Sign-in attempts from one address take turns, so counting the earlier failures and
//! recording this one are a single step: sixty wrong passwords sent at once are judged one
//! after another, and no more of them reach the password check than the limit allows.
//!
//! Turns are per client address: only that address waits for itself. (Within one server;
//! across several, two attempts may overlap by one password check.)

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

#[derive(Debug, Default)]
pub struct Turns {
    waiting: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// The caller's turn; the next one for the same key starts when this drops.
pub struct Turn<'a> {
    turns: &'a Turns,
    key: String,
    guard: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Turns {
    pub async fn take(&self, key: &str) -> Turn<'_> {
        let lock = {
            let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
            // A waiter that gave up can leave its key behind: sweep those now and then.
            if waiting.len() > 1024 {
                waiting.retain(|_, lock| Arc::strong_count(lock) > 1);
            }
            waiting.entry(key.to_string()).or_default().clone()
        };
        Turn {
            turns: self,
            key: key.to_string(),
            guard: Some(lock.lock_owned().await),
        }
    }

    pub fn len(&self) -> usize {
        self.waiting.lock().map_or(0, |w| w.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        drop(self.guard.take());
        // The last one out removes the key, so the map holds only addresses signing in now.
        let mut waiting = self.turns.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting
            .get(&self.key)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            waiting.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[tokio::test(flavor = "current_thread")]
    async fn one_key_takes_turns_other_keys_do_not_wait_and_nothing_is_kept() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(AtomicU32::new(0));
        let most = Arc::new(AtomicU32::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (turns, inside, most) = (turns.clone(), inside.clone(), most.clone());
            tasks.push(tokio::spawn(async move {
                let _turn = turns.take("198.51.100.7").await;
                let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        // Another address is not behind them.
        let other = turns.take("203.0.113.1").await;
        drop(other);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1);
        assert!(turns.is_empty());
    }
}
