//! Writing an output where the user pointed, as `cp`, `tee` and `sort -o` do: a regular file is
//! written under a temporary name in its own directory and renamed into place (never left
//! half-written, its permissions kept); a symlink is followed to the file it names; a FIFO, a
//! character device and `-` (standard output) are written directly; a directory is refused
//! before any work.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Where the bytes go.
enum Sink {
    /// A regular file (existing or new): temporary file, then rename.
    Regular {
        /// The real path (symlinks followed).
        real: PathBuf,
        /// The temporary file next to it.
        tmp: PathBuf,
        /// Open temporary file.
        file: Option<File>,
    },
    /// A FIFO or a device: opened and written at commit.
    Direct(PathBuf),
    /// Standard output (`-`).
    Stdout,
}

/// An output being prepared: checked now, written by [`PendingFile::commit`].
pub struct PendingFile {
    target: PathBuf,
    sink: Sink,
}

/// Follows a chain of symlinks (at most 40, as the kernel does) to the path it ends at, which
/// need not exist yet.
fn resolve_symlinks(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = if link.is_absolute() {
                    link
                } else {
                    p.parent().unwrap_or_else(|| Path::new(".")).join(link)
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

#[cfg(unix)]
fn is_special(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::FileTypeExt;
    let t = m.file_type();
    t.is_fifo() || t.is_char_device() || t.is_block_device() || t.is_socket()
}

#[cfg(not(unix))]
fn is_special(_m: &std::fs::Metadata) -> bool {
    false
}

impl PendingFile {
    /// Checks the target now, so a bad path fails before any work is done: `-` is standard
    /// output, a directory is refused, a FIFO or device is written directly at commit, and a
    /// regular file gets its temporary file in its own directory.
    pub fn create(target: &Path) -> std::io::Result<Self> {
        if target.as_os_str() == "-" {
            return Ok(Self {
                target: target.to_path_buf(),
                sink: Sink::Stdout,
            });
        }
        let real = resolve_symlinks(target)?;
        match std::fs::metadata(&real) {
            Ok(m) if m.is_dir() => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::IsADirectory,
                    "is a directory",
                ));
            }
            Ok(m) if is_special(&m) => {
                return Ok(Self {
                    target: target.to_path_buf(),
                    sink: Sink::Direct(real),
                });
            }
            _ => {}
        }
        let name = real
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    "the path has no file name",
                )
            })?;
        let dir = match real.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let tmp = dir.join(format!(".{name}.tmp-{}", std::process::id()));
        let file = File::create(&tmp)?;
        Ok(Self {
            target: target.to_path_buf(),
            sink: Sink::Regular {
                real,
                tmp,
                file: Some(file),
            },
        })
    }

    /// The path as the user gave it.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Writes all bytes: into the temporary file, synced and renamed over the real file (keeping
    /// an existing file's permissions), or straight into a FIFO, device or standard output. On
    /// any error no temporary file is left.
    pub fn commit(mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.write_out(bytes).map_err(|e| {
            // A reader that went away is this output's failure, not a quiet `| head`.
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::io::Error::other("the reader closed the pipe (EPIPE)")
            } else {
                e
            }
        })
    }

    fn write_out(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        match &mut self.sink {
            Sink::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(bytes).and_then(|_| out.flush())
            }
            Sink::Direct(path) => {
                let mut f = std::fs::OpenOptions::new().write(true).open(&*path)?;
                f.write_all(bytes).and_then(|_| f.flush())
            }
            Sink::Regular { real, tmp, file } => {
                let mut f = file
                    .take()
                    .ok_or_else(|| std::io::Error::other("file already committed"))?;
                let keep_mode = std::fs::metadata(&*real).ok().map(|m| m.permissions());
                let res = f
                    .write_all(bytes)
                    .and_then(|_| f.sync_all())
                    .and_then(|_| match keep_mode {
                        Some(p) => std::fs::set_permissions(&*tmp, p),
                        None => Ok(()),
                    })
                    .and_then(|_| std::fs::rename(&*tmp, &*real));
                if res.is_err() {
                    let _ = std::fs::remove_file(&*tmp);
                }
                // Renamed (or removed): nothing left for Drop to clean.
                *tmp = PathBuf::new();
                res
            }
        }
    }
}

impl Drop for PendingFile {
    fn drop(&mut self) {
        if let Sink::Regular { tmp, .. } = &self.sink
            && !tmp.as_os_str().is_empty()
        {
            let _ = std::fs::remove_file(tmp);
        }
    }
}

/// Writes `bytes` to `path` as [`PendingFile`] does.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    PendingFile::create(path)?.commit(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("gilscope-atomic-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn entries(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_renames_and_drop_cleans_up() {
        let dir = scratch("basic");
        let target = dir.join("out.txt");
        write_atomic(&target, b"hello").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"hello");
        {
            let _pending = PendingFile::create(&dir.join("never.txt")).unwrap();
        }
        assert_eq!(entries(&dir), ["out.txt"]);
        assert!(PendingFile::create(&dir.join("missing/sub/x.txt")).is_err());
        assert!(PendingFile::create(&dir).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_are_followed_and_modes_kept() {
        use std::os::unix::fs::PermissionsExt;
        let dir = scratch("link");
        let real = dir.join("real.csv");
        std::fs::write(&real, b"old").unwrap();
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
        let link = dir.join("link.csv");
        std::os::unix::fs::symlink("real.csv", &link).unwrap();
        write_atomic(&link, b"new").unwrap();
        assert!(
            std::fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(std::fs::read(&real).unwrap(), b"new");
        let mode = std::fs::metadata(&real).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
        // A dangling link creates the file it names.
        let dangling = dir.join("dangling.csv");
        std::os::unix::fs::symlink("made.csv", &dangling).unwrap();
        write_atomic(&dangling, b"x").unwrap();
        assert_eq!(std::fs::read(dir.join("made.csv")).unwrap(), b"x");
        assert_eq!(
            entries(&dir),
            ["dangling.csv", "link.csv", "made.csv", "real.csv"]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn fifos_are_written_directly_and_a_full_device_is_an_error() {
        let dir = scratch("fifo");
        let fifo = dir.join("pipe");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || std::fs::read(fifo).unwrap())
        };
        write_atomic(&fifo, b"through the pipe").unwrap();
        assert_eq!(reader.join().unwrap(), b"through the pipe");
        assert!(
            std::fs::symlink_metadata(&fifo)
                .unwrap()
                .file_type()
                .is_fifo(),
            "the FIFO is still a FIFO"
        );
        // ENOSPC through a symlink to /dev/full (never the node itself).
        let full = dir.join("full.json");
        std::os::unix::fs::symlink("/dev/full", &full).unwrap();
        let err = write_atomic(&full, b"{}").unwrap_err();
        assert_eq!(err.raw_os_error(), Some(28), "{err}");
        assert_eq!(
            entries(&dir),
            ["full.json", "pipe"],
            "no temporary file left"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    use std::os::unix::fs::FileTypeExt as _;
}
