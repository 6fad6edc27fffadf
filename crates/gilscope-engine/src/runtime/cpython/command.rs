//! What `--python` names: a Python by path or name (`python3`, `~/venv/bin/python`), or a
//! command that execs one (`chroot /srv/sid python3.14`, `env -i python3`), and the root in
//! which that Python sees files, so a script and gilscope's start-up hook can be handed to a
//! Python in a root of its own.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::error::EngineError;

/// `--python`, split as a shell would split it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PythonCommand {
    /// The program and its arguments; the Python's own arguments follow.
    pub argv: Vec<String>,
    /// The folder that is `/` for that Python (`chroot DIR …`), if not this one.
    pub root: Option<PathBuf>,
}

impl PythonCommand {
    /// Splits `python` (quotes as a shell takes them); an empty or unbalanced one is refused.
    pub fn parse(python: &str) -> Result<PythonCommand, EngineError> {
        // A path that exists is one Python, spaces and all (a venv under "My Projects").
        if Path::new(python).is_file() {
            return Ok(PythonCommand {
                argv: vec![python.to_owned()],
                root: None,
            });
        }
        let argv = shlex::split(python)
            .filter(|a| !a.is_empty())
            .ok_or_else(|| {
                EngineError::Config(format!(
                    "--python '{python}' is not a path or a command gilscope can split (check \
                     its quotes)"
                ))
            })?;
        let root = chroot_dir(&argv).map(PathBuf::from);
        Ok(PythonCommand { argv, root })
    }

    /// Whether this is a command rather than one Python's path or name.
    pub fn is_command(&self) -> bool {
        self.argv.len() > 1
    }

    /// A `Command` for it, to which the Python's own arguments are added.
    pub fn command(&self) -> Command {
        let mut c = Command::new(&self.argv[0]);
        c.args(&self.argv[1..]);
        c
    }

    /// Where the Python sees the file at `host` (this machine's path): the same path, or inside
    /// its root; a file outside that root is refused in one line.
    pub fn inside(&self, host: &Path) -> Result<PathBuf, EngineError> {
        let Some(root) = &self.root else {
            return Ok(host.to_path_buf());
        };
        let canon = |p: &Path| {
            p.canonicalize()
                .map_err(|e| EngineError::io(format!("cannot find {}", p.display()), e))
        };
        let (root_c, host_c) = (canon(root)?, canon(host)?);
        let rel = host_c.strip_prefix(&root_c).map_err(|_| {
            EngineError::Config(format!(
                "{} is outside {}, the root of `{}`: put it inside that folder",
                host.display(),
                root.display(),
                self.argv.join(" ")
            ))
        })?;
        Ok(Path::new("/").join(rel))
    }

    /// Where gilscope puts its scratch folders for this Python: inside its root when it has
    /// one, so the Python can read them.
    pub fn scratch_base(&self) -> PathBuf {
        match &self.root {
            Some(r) => r.join("tmp"),
            None => std::env::temp_dir(),
        }
    }
}

/// The `DIR` of `chroot [OPTION]… DIR [COMMAND…]`, if `argv` is such a command.
fn chroot_dir(argv: &[String]) -> Option<&str> {
    let program = Path::new(argv.first()?).file_name()?.to_str()?;
    if program != "chroot" {
        return None;
    }
    // chroot's options are all `--name=value` or `--name` (GNU coreutils).
    argv[1..]
        .iter()
        .find(|a| !a.starts_with('-'))
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_one_python_and_a_chroot_command_has_a_root() {
        let p = PythonCommand::parse("python3").unwrap();
        assert!(!p.is_command());
        assert_eq!(p.root, None);
        let p = PythonCommand::parse("/opt/no such/bin/python").unwrap();
        assert_eq!(p.argv.len(), 2, "unquoted spaces split, as in a shell");
        let p = PythonCommand::parse("'/opt/no such/bin/python'").unwrap();
        assert_eq!(p.argv, ["/opt/no such/bin/python"]);
        // An existing file is one path, spaces and all.
        let spaced = std::env::temp_dir().join(format!("gilscope cmd {}", std::process::id()));
        std::fs::write(&spaced, "").unwrap();
        let p = PythonCommand::parse(spaced.to_str().unwrap()).unwrap();
        assert!(!p.is_command());
        let _ = std::fs::remove_file(&spaced);
        let p = PythonCommand::parse("chroot --userspec=1000:1000 /srv/sid python3.14").unwrap();
        assert!(p.is_command());
        assert_eq!(p.root.as_deref(), Some(Path::new("/srv/sid")));
        assert_eq!(p.scratch_base(), Path::new("/srv/sid/tmp"));
        let p = PythonCommand::parse("env -i python3").unwrap();
        assert!(p.is_command());
        assert_eq!(p.root, None);
        assert!(PythonCommand::parse("").is_err());
        assert!(PythonCommand::parse("'unbalanced").is_err());
    }

    #[test]
    fn files_are_seen_inside_the_root_or_refused() {
        let base = std::env::temp_dir().join(format!("gilscope-cmd-{}", std::process::id()));
        let root = base.join("root");
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        let inside = root.join("tmp/x.py");
        std::fs::write(&inside, "print(1)\n").unwrap();
        let outside = base.join("y.py");
        std::fs::write(&outside, "print(2)\n").unwrap();
        let p = PythonCommand::parse(&format!("chroot {} python3", root.display())).unwrap();
        assert_eq!(p.inside(&inside).unwrap(), Path::new("/tmp/x.py"));
        let e = p.inside(&outside).unwrap_err().to_string();
        assert!(e.contains("outside") && e.contains("put it inside"), "{e}");
        // Without a root a path is what it is.
        let plain = PythonCommand::parse("python3").unwrap();
        assert_eq!(plain.inside(&outside).unwrap(), outside);
        let _ = std::fs::remove_dir_all(&base);
    }
}
