use clap::Parser;

fn main() {
    if let Err(error) = paylink::cli::run(paylink::cli::Cli::parse()) {
        eprintln!("paylink: {error:#}");
        std::process::exit(1);
    }
}
