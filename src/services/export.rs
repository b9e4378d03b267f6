//! Exports read page by page: each page is one short read transaction (a keyset page from
//! the store), so that an export of many rows never holds a connection, nor its rows in
//! memory, for long. The first page is read before the answer starts, so that a failing
//! database still answers with an error page rather than a truncated file.

use std::future::Future;

use futures_util::{Stream, stream};

use super::ServiceResult;

/// Rows read per query while exporting.
pub const EXPORT_PAGE: i64 = 500;
/// An export is bounded so that one click cannot hold the database for minutes.
pub const EXPORT_MAX: usize = 100_000;

/// A page of rows and where the next one starts.
pub type Page<T, C> = (Vec<T>, Option<C>);

enum Step<T, C> {
    Ready(Page<T, C>),
    Fetch(C),
    Done,
}

/// The pages of an export: `first`, then each page `fetch` reads from the previous page's
/// cursor, up to [`EXPORT_MAX`] rows in all. A failed read ends the stream with its error.
pub fn pages<T, C, F, Fut>(first: Page<T, C>, fetch: F) -> impl Stream<Item = ServiceResult<Vec<T>>>
where
    F: FnMut(C) -> Fut,
    Fut: Future<Output = ServiceResult<Page<T, C>>>,
{
    stream::unfold((Step::Ready(first), 0usize, fetch), |(step, sent, mut fetch)| async move {
        let (mut rows, next) = match step {
            Step::Done => return None,
            Step::Ready(page) => page,
            Step::Fetch(cursor) => match fetch(cursor).await {
                Ok(page) => page,
                Err(e) => return Some((Err(e), (Step::Done, sent, fetch))),
            },
        };
        rows.truncate(EXPORT_MAX - sent);
        let sent = sent + rows.len();
        let step = match next {
            Some(cursor) if sent < EXPORT_MAX => Step::Fetch(cursor),
            _ => Step::Done,
        };
        Some((Ok(rows), (step, sent, fetch)))
    })
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    #[actix_web::test]
    async fn pages_follow_their_cursors_until_the_last() {
        let fetch = |from: u32| async move {
            let rows: Vec<u32> = (from..(from + 3).min(8)).collect();
            Ok((rows, (from + 3 < 8).then_some(from + 3)))
        };
        let got: Vec<Vec<u32>> = pages((vec![0u32, 1], Some(2)), fetch).map(Result::unwrap).collect().await;
        assert_eq!(got, [vec![0, 1], vec![2, 3, 4], vec![5, 6, 7]]);
    }
}
