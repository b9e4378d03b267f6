use clap::Parser;

/// mimalloc rather than glibc's malloc: a page allocates a few hundred small strings, and
/// glibc's arenas spent about a tenth of the pay page's CPU on them (perf, `scripts/bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    if let Err(error) = paylink::cli::run(paylink::cli::Cli::parse()) {
        eprintln!("paylink: {error:#}");
        std::process::exit(1);
    }
}
