//! Hostile files through the running server. Each one is built here, uploaded through the web
//! form, and must be refused with a file-level message that names the problem (or, where the
//! file is odd but harmless, imported correctly), create nothing, leave the server serving, and
//! cost the process less than 256 MB of extra memory.
//!
//! The server runs in the test's process, so that process's peak RSS is the server's. Tests of
//! one binary run side by side in one process, so the test below runs in a process of its own
//! (the test binary started again for that test alone), every upload is made from it one after
//! another, and the peak is reset (`/proc/self/clear_refs`) before each.

mod alone;
mod amplification;
mod bombs;
mod broken;
mod declarations;
mod files;
mod memory;
mod run;
mod server;
mod workbook;

use crate::common::Backend;
use files::{Expect, Files, Hostile};
use run::run_hostile_files;

/// Every hostile file, in the order they are uploaded.
fn hostile_files() -> Vec<Hostile> {
    let mut files = Files(Vec::new());
    bombs::add_to(&mut files);
    declarations::add_to(&mut files);
    broken::add_to(&mut files);
    amplification::add_to(&mut files);
    files.0
}

/// One test, alone in its process, so that nothing runs beside the measured upload.
#[test]
#[cfg_attr(not(target_os = "linux"), ignore = "reads /proc")]
fn hostile_files_are_refused_in_bounded_memory_and_time() {
    alone::run(
        module_path!(),
        "hostile_files_are_refused_in_bounded_memory_and_time",
        || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a runtime");
            runtime.block_on(async {
                run_hostile_files(Backend::Sqlite, hostile_files()).await;
                run_hostile_files(Backend::Postgres, hostile_files()).await;
            });
        },
    );
}

/// Writes every hostile file, and an index of what each is and what it must give, to the
/// directory in `ROSTER_HOSTILE_DIR`: `scripts/hostile-memory.sh` uploads them to a real
/// `roster serve`.
#[test]
#[ignore = "a tool for scripts/hostile-memory.sh, not a test"]
fn write_hostile_files() {
    let dir = std::env::var("ROSTER_HOSTILE_DIR").expect("set ROSTER_HOSTILE_DIR");
    std::fs::create_dir_all(&dir).unwrap();
    let mut index = String::new();
    for (i, file) in hostile_files().into_iter().enumerate() {
        let name = format!("{i:02}-{}", file.file_name);
        std::fs::write(format!("{dir}/{name}"), &file.bytes).unwrap();
        let expected = match file.expect {
            Expect::Refused(status, _) => status.as_u16().to_string(),
            Expect::Imports(n) => format!("303 (imports {n})"),
        };
        index.push_str(&format!("{name}\t{expected}\t{}\n", file.what));
    }
    std::fs::write(format!("{dir}/index.tsv"), index).unwrap();
}
