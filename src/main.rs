//! The `reqlock` binary: everything is in the library's [`reqlock::cli`].

fn main() -> std::process::ExitCode {
    reqlock::cli::main(std::env::args_os())
}
