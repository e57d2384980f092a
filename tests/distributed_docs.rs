//! docs/distributed.md shows the Slurm scripts that CI submits (`.ci/slurm_check.sh`): each
//! file in docs/slurm/ appears verbatim as a code block, and the array's default range matches
//! the default shard count.

use std::path::Path;

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// The bodies of the page's fenced code blocks, each with its closing newline.
fn code_blocks(md: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in md.lines() {
        match (&mut current, line.starts_with("```")) {
            (None, true) => current = Some(String::new()),
            (Some(_), true) => blocks.push(current.take().unwrap()),
            (Some(body), false) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, false) => {}
        }
    }
    assert!(current.is_none(), "an unclosed code block");
    blocks
}

#[test]
fn the_page_shows_the_submitted_scripts_verbatim() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let blocks = code_blocks(&read(&root.join("docs/distributed.md")));
    let names = ["mc-shards.sbatch", "mc-merge.sbatch", "submit.sh"];
    for name in names {
        let file = read(&root.join("docs/slurm").join(name));
        let header = format!("#!/bin/bash\n# {name}");
        let shown: Vec<&String> = blocks.iter().filter(|b| b.starts_with(&header)).collect();
        assert_eq!(shown.len(), 1, "docs/distributed.md shows {name} {} times", shown.len());
        assert!(
            *shown[0] == file,
            "docs/distributed.md's {name} differs from docs/slurm/{name}:\n--- page\n{}--- file\n{file}",
            shown[0]
        );
    }
    // The shards script's own #SBATCH --array covers exactly its default shard count.
    let shards = read(&root.join("docs/slurm/mc-shards.sbatch"));
    let default = shards
        .lines()
        .find_map(|l| l.strip_prefix("SHARDS=${SHARDS:-"))
        .and_then(|rest| rest.split('}').next())
        .and_then(|n| n.parse::<u32>().ok())
        .expect("mc-shards.sbatch sets SHARDS=${SHARDS:-N}");
    let array = format!("#SBATCH --array=0-{}", default - 1);
    assert!(shards.lines().any(|l| l == array), "mc-shards.sbatch lacks `{array}` for {default} shards");
    // Every script is executable, as submit.sh runs and sbatch reads them.
    #[cfg(unix)]
    for name in names {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(root.join("docs/slurm").join(name)).unwrap().permissions().mode();
        assert!(mode & 0o111 != 0, "docs/slurm/{name} is not executable");
    }
}
