//! A map over a slice shared out over the machine's cores, for CPU-bound
//! work on many independent items: reading cache entries, resolving
//! requirements. A warm audit is short enough that its second core would
//! otherwise sit idle.

/// `items.iter().map(f)`, in order, on up to `available_parallelism`
/// threads; on the calling thread alone below `minimum` items, where
/// starting threads would cost more than it saves. A panic in `f` is
/// raised again here.
pub fn map<T: Sync, R: Send>(items: &[T], minimum: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    if items.len() < minimum.max(2) || cores < 2 {
        return items.iter().map(f).collect();
    }
    let chunk = items.len().div_ceil(cores);
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
    }
}
