//! Payments per second through the whole hosted pay page: for each prepared order
//! (`bench_db payable`), GET the page, then POST the card form, as a browser does.
//!
//!   bench_pay BASE_URL COUNT CONCURRENCY [PREFIX START [SAVED_TOKEN]]
//!
//! The orders are `/t/{PREFIX}{START+1…START+COUNT, 17 digits}` (default `pay`, 0). With
//! SAVED_TOKEN the form chooses that saved card and types only its CVV (`bench_db
//! payable-saved` prepares such orders and the card); without it, a new card is typed.
//!
//! Prints `payments/s p50_ms p99_ms` (latency of the POST). Traffic goes to BASE_URL only.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

fn attr(html: &str, before: &str) -> Option<String> {
    let at = html.find(before)? + before.len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_string())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let base = args.first().cloned().ok_or_else(|| anyhow::anyhow!("usage: bench_pay BASE_URL COUNT CONCURRENCY"))?;
    let count: usize = args.get(1).map(|s| s.parse()).transpose()?.unwrap_or(2000);
    let concurrency: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(16);
    let prefix = args.get(3).cloned().unwrap_or_else(|| "pay".into());
    let start: usize = args.get(4).map(|s| s.parse()).transpose()?.unwrap_or(0);
    let saved = args.get(5).cloned();
    let count = start + count;
    let next = Arc::new(AtomicUsize::new(start + 1));
    let accepted = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (base, next, accepted, prefix, saved) =
            (base.clone(), next.clone(), accepted.clone(), prefix.clone(), saved.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client");
            let mut latencies = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i > count {
                    break;
                }
                let url = format!("{base}/t/{prefix}{i:017}");
                let page = client.get(&url).send().await.expect("GET").text().await.expect("body");
                let (Some(csrf), Some(session)) =
                    (attr(&page, "name=\"csrf-token\" content=\""), attr(&page, "name=\"session\" value=\""))
                else {
                    panic!("no pay form at {url}");
                };
                let form: Vec<(&str, &str)> = match &saved {
                    Some(token) => vec![
                        ("csrf_token", csrf.as_str()),
                        ("session", session.as_str()),
                        ("saved_card", token.as_str()),
                        ("cvv", "123"),
                    ],
                    None => vec![
                        ("csrf_token", csrf.as_str()),
                        ("session", session.as_str()),
                        ("card_number", "4970100000000006"),
                        ("expiry_month", "12"),
                        ("expiry_year", "2030"),
                        ("cvv", "123"),
                        ("holder", "Bench Buyer"),
                    ],
                };
                let t = Instant::now();
                let res = client.post(&url).form(&form).send().await.expect("POST");
                latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                if res.status() == 303 {
                    accepted.fetch_add(1, Ordering::Relaxed);
                }
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let secs = started.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let pct =
        |p: f64| all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(0.0);
    let ok = accepted.load(Ordering::Relaxed);
    if ok != count - start {
        eprintln!("warning: {ok} of {} payments answered 303", count - start);
    }
    println!("{:.0} {:.2} {:.2}", ok as f64 / secs, pct(0.5), pct(0.99));
    Ok(())
}
