//! The `mailauth` command-line tool.

fn main() {
    eprintln!("mailauth: no command yet");
    std::process::exit(2);
}
