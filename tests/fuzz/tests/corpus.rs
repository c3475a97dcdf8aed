//! Every committed seed and every input a fuzzer once crashed on, through
//! its target: a crash found once stays fixed.

use std::path::Path;

#[test]
fn seeds_and_regressions_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut ran = 0;
    for (name, target) in scute_fuzz::TARGETS {
        for dir in ["seeds", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(name)) else {
                continue;
            };
            for entry in entries {
                let path = entry.expect("a directory entry").path();
                let data = std::fs::read(&path).expect("a readable input");
                eprintln!("{name}: {}", path.display());
                target(&data);
                ran += 1;
            }
        }
    }
    assert!(ran > 0, "no seeds found under {}", root.display());
}
