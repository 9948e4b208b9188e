//! Where a portal serving the simulated Kubernetes writes its kubeconfig. The README's kubectl line reads
//! `.esaas/sim-kubeconfig`; a second `esaas serve` in the same folder (another port) must not take that file
//! from the first while the first still runs. The writer's process id is kept beside the file
//! (`sim-kubeconfig.pid`): while that process lives, a later portal writes `sim-kubeconfig-<port>` instead
//! and says so in its log.

use std::path::{Path, PathBuf};

/// The file name the README's kubectl line uses.
pub const FILE_NAME: &str = "sim-kubeconfig";

/// Choose the kubeconfig path in `dir` for a portal serving the simulated API on `port`, and record this
/// process as the owner when it gets the default file.
pub fn claim(dir: &Path, port: u16) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let pid_file = dir.join(format!("{FILE_NAME}.pid"));
    let me = std::process::id();
    let owner = std::fs::read_to_string(&pid_file)
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok());
    match owner {
        Some(pid) if pid != me && is_alive(pid) => Ok(dir.join(format!("{FILE_NAME}-{port}"))),
        _ => {
            std::fs::write(&pid_file, format!("{me}\n"))?;
            Ok(dir.join(FILE_NAME))
        }
    }
}

/// Whether a process with this id runs (Linux: its `/proc` entry exists; elsewhere assumed gone, so the
/// default file is taken as before).
fn is_alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_portal_takes_the_default_file_and_a_second_one_its_own() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(claim(dir.path(), 8081).unwrap(), dir.path().join(FILE_NAME));
        // The same process claiming again (a restart of the target in tests) keeps the default file.
        assert_eq!(claim(dir.path(), 8082).unwrap(), dir.path().join(FILE_NAME));
        // Another live process owns it: pid 1 always runs.
        std::fs::write(dir.path().join("sim-kubeconfig.pid"), "1\n").unwrap();
        assert_eq!(
            claim(dir.path(), 8091).unwrap(),
            dir.path().join("sim-kubeconfig-8091")
        );
    }

    #[test]
    fn a_dead_owner_or_a_garbled_pid_file_gives_the_default_file_back() {
        let dir = tempfile::tempdir().unwrap();
        let pid_file = dir.path().join("sim-kubeconfig.pid");
        // Linux pids stay below 2^22 (pid_max), so this one cannot run.
        std::fs::write(&pid_file, "4294967\n").unwrap();
        assert_eq!(claim(dir.path(), 8091).unwrap(), dir.path().join(FILE_NAME));
        assert_eq!(
            std::fs::read_to_string(&pid_file).unwrap().trim(),
            std::process::id().to_string()
        );
        std::fs::write(&pid_file, "not a pid").unwrap();
        assert_eq!(claim(dir.path(), 8091).unwrap(), dir.path().join(FILE_NAME));
    }
}
