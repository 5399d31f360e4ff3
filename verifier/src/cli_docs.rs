//! Shell completions and man pages, generated from a binary's clap command definition, so
//! they cannot drift from the flags the binary parses (`por-verify completions bash`,
//! `por-verify manpages --out DIR`, and the same for `por-prove`).

pub use clap_complete::Shell;

use crate::{Error, Result};
use std::io::Write;
use std::path::{Path, PathBuf};

/// Writes the completion script of `cmd` for `shell` to `out`.
pub fn completions(mut cmd: clap::Command, shell: clap_complete::Shell, out: &mut dyn Write) {
    let name = cmd.get_name().to_string();
    clap_complete::generate(shell, &mut cmd, name, out);
}

/// The man pages of `cmd` and of every subcommand it shows (`por-verify.1`,
/// `por-verify-proof.1`, `por-prove-reserves-add.1`, …): file names and their roff text.
pub fn manpage_texts(mut cmd: clap::Command) -> Result<Vec<(String, Vec<u8>)>> {
    fn walk(c: &clap::Command, out: &mut Vec<(String, Vec<u8>)>) -> Result<()> {
        let name = c.get_display_name().unwrap_or(c.get_name()).to_string();
        let mut text = Vec::new();
        clap_mangen::Man::new(c.clone())
            .render(&mut text)
            .map_err(|e| Error::input(format!("man page of {name}: {e}")))?;
        out.push((format!("{name}.1"), text));
        // clap's own `help` subcommand is every page's --help, not a page of its own.
        for sub in c
            .get_subcommands()
            .filter(|s| !s.is_hide_set() && s.get_name() != "help")
        {
            walk(sub, out)?;
        }
        Ok(())
    }
    // Building fills in each subcommand's display name (`por-verify-proof`).
    cmd.build();
    let mut out = Vec::new();
    walk(&cmd, &mut out)?;
    Ok(out)
}

/// Writes [`manpage_texts`] into the existing directory `dir` and returns the paths. Each page
/// is written beside its name and renamed into place; on an error the pages already placed
/// are removed, so no partial set is left behind.
pub fn manpages(cmd: clap::Command, dir: &Path) -> Result<Vec<PathBuf>> {
    if !dir.is_dir() {
        return Err(Error::input(format!(
            "{}: not a directory (make it first: mkdir -p {})",
            dir.display(),
            dir.display()
        )));
    }
    let pages = manpage_texts(cmd)?;
    let mut written: Vec<PathBuf> = Vec::with_capacity(pages.len());
    for (name, text) in pages {
        let to = dir.join(&name);
        let tmp = dir.join(format!(".{name}.tmp"));
        let placed = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&text).and_then(|()| f.sync_all()))
            .and_then(|()| std::fs::rename(&tmp, &to));
        if let Err(e) = placed {
            let _ = std::fs::remove_file(&tmp);
            for p in &written {
                let _ = std::fs::remove_file(p);
            }
            return Err(Error::input(format!("{}: cannot write: {e}", to.display())));
        }
        written.push(to);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli() -> clap::Command {
        clap::Command::new("tool")
            .about("A tool.")
            .subcommand(
                clap::Command::new("check")
                    .about("Checks.")
                    .arg(clap::Arg::new("file").long("file")),
            )
            .subcommand(clap::Command::new("secret").hide(true))
    }

    #[test]
    fn one_page_per_shown_command() {
        let pages = manpage_texts(cli()).expect("pages");
        let names: Vec<&str> = pages.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["tool.1", "tool-check.1"]);
        let check = String::from_utf8(pages[1].1.clone()).expect("utf-8");
        assert!(check.contains(".TH tool-check"), "{check}");
        assert!(check.contains("file"), "{check}");
    }

    #[test]
    fn completions_name_the_subcommands() {
        let mut out = Vec::new();
        completions(cli(), clap_complete::Shell::Bash, &mut out);
        let script = String::from_utf8(out).expect("utf-8");
        assert!(
            script.contains("check") && script.contains("--file"),
            "{script}"
        );
    }
}
