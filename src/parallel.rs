//! A map over a slice shared out over threads: over the machine's cores
//! for CPU-bound work on many independent items (reading cache entries,
//! resolving requirements; a warm audit is short enough that its second
//! core would otherwise sit idle), or over more threads for work that
//! mostly waits on the network.

/// `items.iter().map(f)`, in order, on up to `available_parallelism`
/// threads; on the calling thread alone below `minimum` items, where
/// starting threads would cost more than it saves. A panic in `f` is
/// raised again here.
pub fn map<T: Sync, R: Send>(items: &[T], minimum: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < minimum {
        return items.iter().map(f).collect();
    }
    map_on(items, cores, f)
}

/// `items.iter().map(f)`, in order, on up to `threads` threads (each item
/// on the calling thread when one is enough). A panic in `f` is raised
/// again here.
pub fn map_on<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if items.len() < 2 || threads < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let f = &f;
        let workers: Vec<_> = items
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(f).collect::<Vec<R>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| match worker.join() {
                Ok(results) => results,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn keeps_the_order_of_the_items() {
        let items: Vec<u32> = (0..1000).collect();
        let doubled = super::map(&items, 8, |n| n * 2);
        assert_eq!(doubled, items.iter().map(|n| n * 2).collect::<Vec<_>>());
        assert_eq!(super::map(&items[..3], 8, |n| n + 1), [1, 2, 3]);
        assert!(super::map(&[] as &[u32], 8, |n| *n).is_empty());
        assert_eq!(super::map_on(&items, 8, |n| n + 1)[999], 1000);
        assert_eq!(super::map_on(&items[..5], 8, |n| n * 3), [0, 3, 6, 9, 12]);
    }
}
