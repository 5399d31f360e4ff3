//! Completions and man pages come from the binaries' own command definitions: every command a
//! user can type has a page and completes, and an unusable directory is bad input (exit 2)
//! with nothing written.

use por_e2e::{path_str, run};
use std::process::Command;

/// The subcommands `--help` lists, read from the binary itself (so a new command needs no
/// edit here to be checked).
fn subcommands(bin: &str) -> Vec<String> {
    let help = run(bin, &["--help"]).expect(0).stdout;
    help.lines()
        .skip_while(|l| !l.starts_with("Commands:"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|c| *c != "help")
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_has_a_man_page() {
    for bin in ["por-verify", "por-prove"] {
        let dir = tempfile::tempdir().unwrap();
        let listed = run(bin, &["manpages", "--out", path_str(dir.path())]).expect(0);
        let subs = subcommands(bin);
        assert!(subs.len() >= 6, "{bin}: {subs:?}");
        for sub in std::iter::once(String::new()).chain(subs) {
            let name = if sub.is_empty() {
                format!("{bin}.1")
            } else {
                format!("{bin}-{sub}.1")
            };
            let page = std::fs::read_to_string(dir.path().join(&name))
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            let title = name.trim_end_matches(".1");
            assert!(page.contains(&format!(".TH {title}")), "{name}: {page}");
            assert!(listed.stdout.contains(&name), "{}", listed.stdout);
        }
        // Nothing but the pages: no staging file is left.
        assert!(std::fs::read_dir(dir.path()).unwrap().all(|e| e
            .unwrap()
            .file_name()
            .to_string_lossy()
            .ends_with(".1")));
    }
    let r = run("por-verify", &["manpages", "--out", "/nonexistent/man1"]).expect(2);
    assert!(r.stderr.contains("not a directory"), "{}", r.stderr);
}

#[test]
fn bash_completes_every_command() {
    for bin in ["por-verify", "por-prove"] {
        let script = run(bin, &["completions", "bash"]).expect(0).stdout;
        for sub in subcommands(bin) {
            assert!(script.contains(&sub), "{bin} {sub}");
        }
        // bash itself loads it and registers the completion.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("complete.bash");
        std::fs::write(&file, &script).unwrap();
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!("source {} && complete -p {bin}", file.display()))
            .output()
            .expect("bash");
        assert!(
            out.status.success() && String::from_utf8_lossy(&out.stdout).contains(bin),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    run("por-verify", &["completions", "tcsh"]).expect(2);
}
