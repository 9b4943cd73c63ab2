//! The `ro-audit` binary: everything is in the library; this only calls the command line.

fn main() -> std::process::ExitCode {
    ro_audit::heap::keep_freed_memory();
    ro_audit::cli::main()
}
